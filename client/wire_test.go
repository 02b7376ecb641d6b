package client_test

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/chaos"
	"github.com/tandemhq/tandem/internal/dora"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/gate"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/okr"
	"github.com/tandemhq/tandem/internal/oncall"
	"github.com/tandemhq/tandem/internal/postmortem"
	"github.com/tandemhq/tandem/internal/sli"
	"github.com/tandemhq/tandem/internal/slo"
	"github.com/tandemhq/tandem/internal/toil"
)

// The client's types are the API's wire shapes: for each, a value of the
// type the server encodes, with every field set (nested ones too), reads
// into the client's type with no unknown field and encodes back to the
// same JSON. A field added on the server and not in the client fails here.
func TestWireShapes(t *testing.T) {
	for _, c := range []struct{ server, public any }{
		{catalog.Service{}, &client.Service{}},
		{catalog.Team{}, &client.Team{}},
		{catalog.Person{}, &client.Person{}},
		{catalog.OwnershipRow{}, &client.OwnershipRow{}},
		{change.Event{}, &client.ChangeEvent{}},
		{change.Commit{}, &client.Commit{}},
		{dora.Report{}, &client.DORAReport{}},
		{chaos.Run{}, &client.ChaosRun{}},
		{chaos.SteadyState{}, &client.ChaosSteadyState{}},
		{chaos.StartInput{}, &client.ChaosStartInput{}},
		{chaos.Observation{}, &client.ChaosObservation{}},
		{chaos.FinishInput{}, &client.ChaosFinishInput{}},
		{gate.Result{}, &client.GateResult{}},
		{gate.Verification{}, &client.Verification{}},
		{gate.SLORequest{}, &client.SLOGateRequest{}},
		{gate.SLOEvaluation{}, &client.SLOGateEvaluation{}},
		{incident.Incident{}, &client.Incident{}},
		{incident.OpenInput{}, &client.NewIncident{}},
		{incident.Update{}, &client.IncidentUpdate{}},
		{incident.Event{}, &client.IncidentEvent{}},
		{incident.Window{}, &client.MaintenanceWindow{}},
		{incident.Assignment{}, &client.IncidentAssignment{}},
		{engine.Info{}, &client.Job{}},
		{oncall.Current{}, &client.CurrentOnCall{}},
		{oncall.LayerResult{}, &client.LayerOnCall{}},
		{oncall.RuleOnCall{}, &client.RuleOnCall{}},
		{oncall.ScheduleView{}, &client.Schedule{}},
		{oncall.Resolution{}, &client.OnCallResolution{}},
		{oncall.Shift{}, &client.Shift{}},
		{oncall.Override{}, &client.Override{}},
		{oncall.Policy{}, &client.EscalationPolicy{}},
		{sli.Batch{}, &client.SLOBatch{}},
		{sli.Event{}, &client.SLOEvent{}},
		{slo.Status{}, &client.SLOStatus{}},
		{slo.HistoryPoint{}, &client.SLOHistoryPoint{}},
		{slo.Freeze{}, &client.Freeze{}},
		{postmortem.Postmortem{}, &client.Postmortem{}},
		{postmortem.Update{}, &client.PostmortemUpdate{}},
		{postmortem.ActionItem{}, &client.ActionItem{}},
		{postmortem.NewItem{}, &client.NewActionItem{}},
		{postmortem.ItemUpdate{}, &client.ActionItemUpdate{}},
		{toil.Entry{}, &client.ToilEntry{}},
		{toil.ImportReport{}, &client.ToilImportReport{}},
		{toil.ImportResult{}, &client.ToilImportResult{}},
		{toil.RowError{}, &client.ToilRowError{}},
		{toil.Report{}, &client.ToilReport{}},
		{toil.GoalStatus{}, &client.ToilGoalStatus{}},
		{okr.ObjectiveStatus{}, &client.ObjectiveStatus{}},
	} {
		name := fmt.Sprintf("%T", c.server)
		t.Run(name, func(t *testing.T) {
			v := reflect.New(reflect.TypeOf(c.server)).Elem()
			fill(v, 0)
			want, err := json.Marshal(v.Interface())
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(want))
			dec.DisallowUnknownFields()
			if err := dec.Decode(c.public); err != nil {
				t.Fatalf("%T reading %s: %v", c.public, want, err)
			}
			got, err := json.Marshal(c.public)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%T encodes\n%s\nthe server's %s\n%s", c.public, got, name, want)
			}
		})
	}
}

var (
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	rawMessage    = reflect.TypeFor[json.RawMessage]()
	timeType      = reflect.TypeFor[time.Time]()
	durationType  = reflect.TypeFor[time.Duration]()
)

// fill sets every settable field of v, nested structs, slices (one
// element), maps (one entry) and pointers included, to a value that is not
// zero; depth stops recursive types.
func fill(v reflect.Value, depth int) {
	if depth > 4 {
		return
	}
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(time.Date(2026, 11, 3, 14, 5, 6, 0, time.UTC)))
		return
	case v.Type() == durationType:
		v.SetInt(int64(90 * time.Second))
		return
	case v.Type() == rawMessage:
		v.SetBytes([]byte(`{"a":1}`))
		return
	case v.Kind() == reflect.Struct && v.Addr().Type().Implements(textMarshaler):
		// okr.Quarter and the like: set through their text form.
		if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
			if err := u.UnmarshalText([]byte("2026Q4")); err == nil {
				return
			}
		}
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("s")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(3)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), depth+1)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fill(k, depth+1)
		e := reflect.New(v.Type().Elem()).Elem()
		fill(e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Interface:
		if v.NumMethod() == 0 {
			v.Set(reflect.ValueOf("v"))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	}
}
