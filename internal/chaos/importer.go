package chaos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
)

// Report is one experiment as a chaos tool reported it, before it is
// recorded as a chaos change event.
type Report struct {
	Source string `json:"source"`
	// ExternalID is the tool's identity of the experiment: recording the
	// same report again changes nothing but its state.
	ExternalID string `json:"external_id"`
	Name       string `json:"name"`
	// Service and Environment come from the report (annotations
	// tandem.dev/service and tandem.dev/environment), "" when it names
	// none; the request's then apply.
	Service     string    `json:"service,omitempty"`
	Environment string    `json:"environment,omitempty"`
	StartedAt   time.Time `json:"started_at"`
	// FinishedAt is zero while the experiment runs.
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// ToolVerdict is the tool's own outcome, lower case: pass, fail,
	// stopped, awaited (Litmus); accomplished, failed, spawned (Chaos
	// Mesh); successful, halted, failed, running (Gremlin).
	ToolVerdict string `json:"tool_verdict"`
	ToolDetail  string `json:"tool_detail,omitempty"`
	Actor       string `json:"actor,omitempty"`
}

// Import formats.
const (
	FormatLitmus    = "litmus"
	FormatChaosMesh = "chaos-mesh"
	FormatGremlin   = "gremlin"
)

// MaxReport is the largest report accepted.
const MaxReport = 4 << 20

// Annotations (or labels) that name the tandem service and environment of
// a Kubernetes chaos object.
const (
	AnnotationService     = "tandem.dev/service"
	AnnotationEnvironment = "tandem.dev/environment"
)

// Parse reads a report of format (litmus, chaos-mesh, gremlin; "" detects
// it from the document). Errors are *tandem.Error invalid naming the field.
func Parse(format string, b []byte) ([]Report, error) {
	if len(b) > MaxReport {
		return nil, tandem.Errorf(tandem.ETooLarge, "report larger than %d bytes", MaxReport)
	}
	if format == "" {
		format = detect(b)
	}
	switch format {
	case FormatLitmus:
		return ParseLitmus(b)
	case FormatChaosMesh:
		return ParseChaosMesh(b)
	case FormatGremlin:
		return ParseGremlin(b)
	case "":
		return nil, tandem.FieldErrorf("format", "cannot tell the report's format: want a LitmusChaos ChaosResult or ChaosEngine, Chaos Mesh events, or a Gremlin webhook")
	}
	return nil, tandem.FieldErrorf("format", "unknown format %q: want litmus, chaos-mesh or gremlin", format)
}

// k8sObject is the part of a Kubernetes object (or list) every parser reads.
type k8sObject struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []json.RawMessage `json:"items"`
	Metadata   struct {
		Name              string            `json:"name"`
		Namespace         string            `json:"namespace"`
		UID               string            `json:"uid"`
		CreationTimestamp string            `json:"creationTimestamp"`
		Labels            map[string]string `json:"labels"`
		Annotations       map[string]string `json:"annotations"`
		ManagedFields     []struct {
			Time string `json:"time"`
		} `json:"managedFields"`
	} `json:"metadata"`
}

func detect(b []byte) string {
	var o struct {
		k8sObject
		AttackID string `json:"attackId"`
	}
	if json.Unmarshal(b, &o) != nil {
		return ""
	}
	kinds := []string{o.Kind}
	for _, it := range o.Items {
		var x k8sObject
		if json.Unmarshal(it, &x) == nil {
			kinds = append(kinds, x.Kind)
		}
	}
	for _, k := range kinds {
		switch k {
		case "ChaosResult", "ChaosEngine":
			return FormatLitmus
		case "Event":
			return FormatChaosMesh
		}
	}
	if o.AttackID != "" {
		return FormatGremlin
	}
	return ""
}

// items returns the objects of a document: its items for a List, else
// the document itself.
func items(b []byte) ([]json.RawMessage, error) {
	var o k8sObject
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&o); err != nil {
		return nil, tandem.FieldErrorf("body", "not a JSON object: %v", err)
	}
	if strings.HasSuffix(o.Kind, "List") {
		return o.Items, nil
	}
	return []json.RawMessage{b}, nil
}

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		if n > 1e12 { // milliseconds
			return time.UnixMilli(n).UTC(), nil
		}
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, tandem.FieldErrorf(field, "want an RFC 3339 time or Unix seconds or milliseconds, got %q", clip(s))
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

func annotated(o k8sObject, key string) string {
	if v := o.Metadata.Annotations[key]; v != "" {
		return v
	}
	return o.Metadata.Labels[key]
}

// lastWrite is the latest managedFields time of the object, the moment
// its controller last wrote its status; zero when none is given.
func lastWrite(o k8sObject) time.Time {
	var last time.Time
	for _, m := range o.Metadata.ManagedFields {
		if t, err := parseTime("metadata.managedFields.time", m.Time); err == nil && t.After(last) {
			last = t
		}
	}
	return last
}

// ParseLitmus reads LitmusChaos ChaosResult and ChaosEngine objects as
// `kubectl get -o json` prints them (one object or a List). A ChaosResult
// is one report (experimentStatus.phase, verdict and
// probeSuccessPercentage, the probes' verdicts); a ChaosEngine is one
// report per experiment of status.experiments (status, verdict,
// lastUpdateTime). A running experiment has no finish.
func ParseLitmus(b []byte) ([]Report, error) {
	objs, err := items(b)
	if err != nil {
		return nil, err
	}
	var out []Report
	for i, raw := range objs {
		prefix := ""
		if len(objs) > 1 || !bytes.Equal(raw, b) {
			prefix = fmt.Sprintf("items[%d].", i)
		}
		var o k8sObject
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, tandem.FieldErrorf(prefix+"metadata", "%v", err)
		}
		if o.Metadata.UID == "" {
			return nil, tandem.FieldErrorf(prefix+"metadata.uid", "required")
		}
		created, err := parseTime(prefix+"metadata.creationTimestamp", o.Metadata.CreationTimestamp)
		if err != nil {
			return nil, err
		}
		if created.IsZero() {
			return nil, tandem.FieldErrorf(prefix+"metadata.creationTimestamp", "required")
		}
		base := Report{Source: SourceLitmus, Service: annotated(o, AnnotationService), Environment: annotated(o, AnnotationEnvironment), StartedAt: created}
		switch o.Kind {
		case "ChaosResult":
			r, err := litmusResult(prefix, raw, o, base)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		case "ChaosEngine":
			rs, err := litmusEngine(prefix, raw, o, base)
			if err != nil {
				return nil, err
			}
			out = append(out, rs...)
		default:
			return nil, tandem.FieldErrorf(prefix+"kind", "want ChaosResult or ChaosEngine, got %q", clip(o.Kind))
		}
	}
	return out, nil
}

func litmusResult(prefix string, raw json.RawMessage, o k8sObject, r Report) (Report, error) {
	var x struct {
		Spec struct {
			Engine     string `json:"engine"`
			Experiment string `json:"experiment"`
		} `json:"spec"`
		Status struct {
			ExperimentStatus struct {
				Phase                  string `json:"phase"`
				Verdict                string `json:"verdict"`
				ProbeSuccessPercentage string `json:"probeSuccessPercentage"`
				FailureOutput          *struct {
					ErrorCode  string `json:"errorCode"`
					FailedStep string `json:"failedStep"`
				} `json:"failureOutput"`
			} `json:"experimentStatus"`
			ProbeStatuses []struct {
				Name   string `json:"name"`
				Status struct {
					Verdict string `json:"verdict"`
				} `json:"status"`
			} `json:"probeStatuses"`
			History *struct {
				PassedRuns  int `json:"passedRuns"`
				FailedRuns  int `json:"failedRuns"`
				StoppedRuns int `json:"stoppedRuns"`
			} `json:"history"`
		} `json:"status"`
	}
	if err := json.Unmarshal(raw, &x); err != nil {
		return r, tandem.FieldErrorf(prefix+"status", "%v", err)
	}
	es := x.Status.ExperimentStatus
	if x.Spec.Experiment == "" {
		return r, tandem.FieldErrorf(prefix+"spec.experiment", "required")
	}
	switch es.Phase {
	case "Running", "Completed", "Stopped":
	default:
		return r, tandem.FieldErrorf(prefix+"status.experimentStatus.phase", "want Running, Completed or Stopped, got %q", clip(es.Phase))
	}
	switch es.Verdict {
	case "Pass", "Fail", "Stopped", "Awaited":
	default:
		return r, tandem.FieldErrorf(prefix+"status.experimentStatus.verdict", "want Pass, Fail, Stopped or Awaited, got %q", clip(es.Verdict))
	}
	runs := 0
	if h := x.Status.History; h != nil {
		runs = h.PassedRuns + h.FailedRuns + h.StoppedRuns
	}
	// One ChaosResult carries the runs of its engine's experiment; each
	// finished run is its own experiment.
	r.ExternalID = fmt.Sprintf("chaosresult/%s/%d", o.Metadata.UID, runs)
	r.Name = x.Spec.Experiment
	if x.Spec.Engine != "" {
		r.Name = x.Spec.Engine + "/" + x.Spec.Experiment
	}
	r.ToolVerdict = strings.ToLower(es.Verdict)
	var detail []string
	detail = append(detail, "phase "+es.Phase)
	if es.ProbeSuccessPercentage != "" {
		detail = append(detail, "probe success "+strings.TrimSuffix(es.ProbeSuccessPercentage, "%")+"%")
	}
	for _, p := range x.Status.ProbeStatuses {
		detail = append(detail, fmt.Sprintf("probe %s %s", p.Name, p.Status.Verdict))
	}
	if f := es.FailureOutput; f != nil && (f.FailedStep != "" || f.ErrorCode != "") {
		detail = append(detail, strings.TrimSpace("failed step: "+f.FailedStep+" "+f.ErrorCode))
	}
	r.ToolDetail = clipDetail(strings.Join(detail, "; "))
	if es.Phase != "Running" {
		r.FinishedAt = lastWrite(o)
		if r.FinishedAt.IsZero() || r.FinishedAt.Before(r.StartedAt) {
			r.FinishedAt = r.StartedAt
		}
	}
	return r, nil
}

func litmusEngine(prefix string, raw json.RawMessage, o k8sObject, base Report) ([]Report, error) {
	var x struct {
		Status struct {
			EngineStatus string `json:"engineStatus"`
			Experiments  []struct {
				Name           string `json:"name"`
				Status         string `json:"status"`
				Verdict        string `json:"verdict"`
				LastUpdateTime string `json:"lastUpdateTime"`
			} `json:"experiments"`
		} `json:"status"`
	}
	if err := json.Unmarshal(raw, &x); err != nil {
		return nil, tandem.FieldErrorf(prefix+"status", "%v", err)
	}
	if len(x.Status.Experiments) == 0 {
		return nil, tandem.FieldErrorf(prefix+"status.experiments", "required: the engine has run no experiment yet")
	}
	var out []Report
	for i, e := range x.Status.Experiments {
		f := fmt.Sprintf("%sstatus.experiments[%d].", prefix, i)
		if e.Name == "" {
			return nil, tandem.FieldErrorf(f+"name", "required")
		}
		r := base
		r.ExternalID = "chaosengine/" + o.Metadata.UID + "/" + e.Name
		r.Name = o.Metadata.Name + "/" + e.Name
		r.ToolVerdict = strings.ToLower(e.Verdict)
		if r.ToolVerdict == "" {
			r.ToolVerdict = "awaited"
		}
		r.ToolDetail = clipDetail("status " + e.Status + "; engine " + x.Status.EngineStatus)
		switch e.Status {
		case "Completed", "Forcefully Aborted", "Skipped", "ChaosExperiment Not Found":
			t, err := parseTime(f+"lastUpdateTime", e.LastUpdateTime)
			if err != nil {
				return nil, err
			}
			if t.IsZero() || t.Before(r.StartedAt) {
				t = r.StartedAt
			}
			r.FinishedAt = t
			if e.Status == "Forcefully Aborted" {
				r.ToolVerdict = "stopped"
			}
		case "Running", "Waiting for Job Creation", "":
		default:
			return nil, tandem.FieldErrorf(f+"status", "unknown experiment status %q", clip(e.Status))
		}
		out = append(out, r)
	}
	return out, nil
}

func clipDetail(s string) string {
	if len(s) > 500 {
		return s[:497] + "…"
	}
	return s
}

// Chaos Mesh event reasons tandem reads (the controllers' recorder
// reasons); every other reason is ignored.
var (
	chaosMeshStart  = map[string]bool{"EntryCreated": true}
	chaosMeshFinish = map[string]string{
		"WorkflowAccomplished": "accomplished",
		"InvalidEntry":         "failed",
		"ChaosCRCreateFailed":  "failed",
		"TaskPodSpawnFailed":   "failed",
	}
)

// ParseChaosMesh reads Kubernetes events of Chaos Mesh Workflows and
// Schedules (`kubectl get events -o json`: one Event or a List). A
// Workflow's events fold into one report: EntryCreated starts it,
// WorkflowAccomplished finishes it (accomplished), and InvalidEntry,
// ChaosCRCreateFailed or TaskPodSpawnFailed finish it failed. A Schedule's
// Spawned event ("Create new object: NAME") is one experiment of its own,
// recorded at the spawn (tool verdict spawned); its Failed event is a
// failed one. Events of other objects or reasons are skipped.
func ParseChaosMesh(b []byte) ([]Report, error) {
	objs, err := items(b)
	if err != nil {
		return nil, err
	}
	type event struct {
		Kind           string `json:"kind"`
		Reason         string `json:"reason"`
		Message        string `json:"message"`
		Type           string `json:"type"`
		EventTime      string `json:"eventTime"`
		FirstTimestamp string `json:"firstTimestamp"`
		LastTimestamp  string `json:"lastTimestamp"`
		InvolvedObject struct {
			Kind       string `json:"kind"`
			Namespace  string `json:"namespace"`
			Name       string `json:"name"`
			UID        string `json:"uid"`
			APIVersion string `json:"apiVersion"`
		} `json:"involvedObject"`
		Metadata struct {
			CreationTimestamp string `json:"creationTimestamp"`
		} `json:"metadata"`
	}
	workflows := map[string]*Report{}
	var out []Report
	for i, raw := range objs {
		prefix := ""
		if len(objs) > 1 || !bytes.Equal(raw, b) {
			prefix = fmt.Sprintf("items[%d].", i)
		}
		var e event
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, tandem.FieldErrorf(prefix+"involvedObject", "%v", err)
		}
		if e.Kind != "Event" {
			return nil, tandem.FieldErrorf(prefix+"kind", "want Event, got %q", clip(e.Kind))
		}
		io := e.InvolvedObject
		if !strings.HasPrefix(io.APIVersion, "chaos-mesh.org/") || (io.Kind != "Workflow" && io.Kind != "Schedule") {
			continue
		}
		if io.UID == "" || io.Name == "" {
			return nil, tandem.FieldErrorf(prefix+"involvedObject.uid", "required with the name")
		}
		ts := e.LastTimestamp
		for _, s := range []string{e.EventTime, e.FirstTimestamp, e.Metadata.CreationTimestamp} {
			if ts == "" {
				ts = s
			}
		}
		at, err := parseTime(prefix+"lastTimestamp", ts)
		if err != nil {
			return nil, err
		}
		if at.IsZero() {
			return nil, tandem.FieldErrorf(prefix+"lastTimestamp", "required: the event has no time")
		}
		name := io.Namespace + "/" + io.Name
		switch io.Kind {
		case "Workflow":
			r := workflows[io.UID]
			if r == nil {
				r = &Report{Source: SourceChaosMesh, ExternalID: "workflow/" + io.UID, Name: name, StartedAt: at, ToolVerdict: "running"}
				workflows[io.UID] = r
			}
			if at.Before(r.StartedAt) {
				r.StartedAt = at
			}
			if v, ok := chaosMeshFinish[e.Reason]; ok {
				r.FinishedAt, r.ToolVerdict = at, v
				r.ToolDetail = clipDetail(e.Reason + ": " + e.Message)
			} else if chaosMeshStart[e.Reason] && r.ToolDetail == "" {
				r.ToolDetail = clipDetail(e.Reason + ": " + e.Message)
			}
		case "Schedule":
			switch e.Reason {
			case "Spawned":
				spawned := strings.TrimSpace(strings.TrimPrefix(e.Message, "Create new object:"))
				if spawned == "" {
					return nil, tandem.FieldErrorf(prefix+"message", "want \"Create new object: NAME\"")
				}
				out = append(out, Report{Source: SourceChaosMesh, ExternalID: "schedule/" + io.UID + "/" + spawned, Name: name + "/" + spawned,
					StartedAt: at, FinishedAt: at, ToolVerdict: "spawned", ToolDetail: clipDetail(e.Message)})
			case "Failed":
				out = append(out, Report{Source: SourceChaosMesh, ExternalID: "schedule/" + io.UID + "/failed/" + strconv.FormatInt(at.UnixMilli(), 10),
					Name: name, StartedAt: at, FinishedAt: at, ToolVerdict: "failed", ToolDetail: clipDetail(e.Message)})
			}
		}
	}
	ids := make([]string, 0, len(workflows))
	for id := range workflows {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := workflows[id]
		if !r.FinishedAt.IsZero() && r.FinishedAt.Before(r.StartedAt) {
			r.FinishedAt = r.StartedAt
		}
		out = append(out, *r)
	}
	if len(out) == 0 {
		return nil, tandem.FieldErrorf("items", "no event of a Chaos Mesh Workflow or Schedule that tandem reads")
	}
	return out, nil
}

// ParseGremlin reads a Gremlin attack webhook with the default payload
// (teamId, attackId, attackType, stage, attackStatus, source, time): an
// Initialized or Running status starts the attack, Finished ends it with
// its stage as the tool verdict (Successful, Halted, UserHalted, Failed…).
func ParseGremlin(b []byte) ([]Report, error) {
	var x struct {
		TeamID       string          `json:"teamId"`
		AttackID     string          `json:"attackId"`
		AttackType   string          `json:"attackType"`
		Stage        string          `json:"stage"`
		AttackStatus string          `json:"attackStatus"`
		Source       string          `json:"source"`
		Time         json.RawMessage `json:"time"`
		Service      string          `json:"service"`
		Environment  string          `json:"environment"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&x); err != nil {
		return nil, tandem.FieldErrorf("body", "not a Gremlin webhook: %v", err)
	}
	if x.AttackID == "" || len(x.AttackID) > 200 {
		return nil, tandem.FieldErrorf("attackId", "required, at most 200 characters")
	}
	var ts string
	if len(x.Time) > 0 && x.Time[0] == '"' {
		if err := json.Unmarshal(x.Time, &ts); err != nil {
			return nil, tandem.FieldErrorf("time", "%v", err)
		}
	} else {
		ts = string(x.Time)
	}
	at, err := parseTime("time", ts)
	if err != nil {
		return nil, err
	}
	if at.IsZero() {
		return nil, tandem.FieldErrorf("time", "required")
	}
	name := x.AttackType
	if name == "" {
		name = "attack"
	}
	r := Report{Source: SourceGremlin, ExternalID: "attack/" + x.AttackID, Name: "gremlin " + clip(name), StartedAt: at,
		Service: x.Service, Environment: x.Environment, Actor: "gremlin (" + clip(x.Source) + ")"}
	switch strings.ToLower(x.AttackStatus) {
	case "initialized", "running":
		r.ToolVerdict = "running"
	case "finished":
		r.FinishedAt = at
		r.ToolVerdict = strings.ToLower(x.Stage)
		if r.ToolVerdict == "" {
			r.ToolVerdict = "finished"
		}
	default:
		return nil, tandem.FieldErrorf("attackStatus", "want Initialized, Running or Finished, got %q", clip(x.AttackStatus))
	}
	r.ToolDetail = clipDetail(fmt.Sprintf("stage %s, status %s, team %s", x.Stage, x.AttackStatus, x.TeamID))
	return []Report{r}, nil
}
