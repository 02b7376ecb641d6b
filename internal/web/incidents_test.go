package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/notify"
	"github.com/tandemhq/tandem/internal/oncall"
)

func newIncidents(t *testing.T, d *db.DB) *incident.Manager {
	t.Helper()
	c := clock.NewFake(testNow)
	log := slog.New(slog.DiscardHandler)
	return incident.NewManager(d, c, log, engine.New(d, c, log, prometheus.NewRegistry()), notify.NewSender(notify.SMTP{}, nil))
}

func TestIncidentPagesAndActions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		m := newIncidents(t, d)
		ctx := context.Background()
		inc, err := m.Open(ctx, incident.OpenInput{Title: "Checkout <errors>", Services: []string{"checkout"}, Severity: "sev2",
			StartedAt: testNow.Add(-20 * time.Minute), Actor: "test", NoPage: true})
		if err != nil {
			t.Fatal(err)
		}
		old, err := m.Open(ctx, incident.OpenInput{Title: "Search slow", Services: []string{"search-api"}, Severity: "sev3",
			StartedAt: testNow.Add(-50 * time.Hour), Actor: "test", NoPage: true})
		if err != nil {
			t.Fatal(err)
		}
		s := newTestServer(t, d, Deps{PublicRead: true, Incidents: m})
		id := itoa(inc.ID)

		// The list escapes titles, filters by service, and the overview
		// shows the open incident beside its service.
		_, body := get(t, http.DefaultClient, s.URL+"/incidents")
		if !strings.Contains(body, "Checkout &lt;errors&gt;") || !strings.Contains(body, "Search slow") {
			t.Fatalf("incident list lacks the incidents:\n%s", body)
		}
		_, body = get(t, http.DefaultClient, s.URL+"/incidents?service=search-api&range=24h")
		if strings.Contains(body, "Checkout") || !strings.Contains(body, "Search slow") {
			t.Fatalf("service filter (and open incidents older than the range):\n%s", body)
		}
		if res, body := get(t, http.DefaultClient, s.URL+"/incidents?service=nope"); res.StatusCode != 400 || !strings.Contains(body, "service") {
			t.Fatalf("unknown service: %d", res.StatusCode)
		}
		_, body = get(t, http.DefaultClient, s.URL+"/")
		if !strings.Contains(body, `href="/incidents/`+id+`"`) {
			t.Fatalf("overview does not link the open incident")
		}

		// Anonymous readers see no buttons.
		_, body = get(t, http.DefaultClient, s.URL+"/incidents/"+id)
		if strings.Contains(body, `id="ack"`) || !strings.Contains(body, "Sign in") {
			t.Fatalf("anonymous detail page offers actions")
		}
		// A writer acknowledges, resolves and closes through the forms.
		c := signIn(t, s, s.token(t, "writer", auth.ScopeWrite))
		_, body = get(t, c, s.URL+"/incidents/"+id)
		if !strings.Contains(body, `id="ack"`) {
			t.Fatalf("writer sees no ack button:\n%s", body)
		}
		tok := csrfIn(t, body)

		// The list page declares an incident for a writer, not for a reader.
		if _, body := get(t, http.DefaultClient, s.URL+"/incidents"); strings.Contains(body, `id="declare"`) {
			t.Fatalf("anonymous list page offers to declare an incident")
		}
		if _, body := get(t, c, s.URL+"/incidents"); !strings.Contains(body, `id="declare"`) {
			t.Fatalf("writer's list page has no declare form")
		}
		res, _ := post(t, c, s.URL+"/incidents", s.URL, url.Values{"csrf": {tok}, "service": {"search-api"}, "severity": {"sev1"},
			"title": {"Card payments failing"}, "summary": {"Acquirer returns 502"}})
		loc := res.Header.Get("Location")
		if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "?done=declared") {
			t.Fatalf("declare: %d %s", res.StatusCode, loc)
		}
		declared, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(loc, "/incidents/"), "?done=declared"), 10, 64)
		if err != nil {
			t.Fatalf("declare redirected to %s", loc)
		}
		got, err := m.Get(ctx, declared)
		if err != nil || got.Status != incident.Triggered || got.Severity != "sev1" || got.Title != "Card payments failing" ||
			got.Summary != "Acquirer returns 502" || got.Services[0] != "search-api" || got.Source != "web" {
			t.Fatalf("declared incident: %+v, %v", got, err)
		}
		if _, body := get(t, c, s.URL+loc); !strings.Contains(body, "Incident declared") || !strings.Contains(body, "web:writer") {
			t.Fatalf("declared incident's page lacks the notice or the author")
		}
		for _, bad := range []url.Values{
			{"csrf": {tok}, "service": {"nope"}, "severity": {"sev2"}, "title": {"x"}},
			{"csrf": {tok}, "service": {"checkout"}, "severity": {"sev9"}, "title": {"x"}},
			{"csrf": {tok}, "service": {"checkout"}, "severity": {"sev2"}, "title": {"  "}},
		} {
			if res, _ := post(t, c, s.URL+"/incidents", s.URL, bad); res.StatusCode != http.StatusBadRequest {
				t.Errorf("declare %v: status %d, want 400", bad, res.StatusCode)
			}
		}
		if list, _ := m.List(ctx, incident.Filter{}); len(list) != 3 {
			t.Fatalf("%d incidents after the bad forms, want 3", len(list))
		}

		for _, step := range []struct{ action, status string }{
			{"ack", incident.Acknowledged}, {"resolve", incident.Resolved}, {"close", incident.Closed},
		} {
			res, _ := post(t, c, s.URL+"/incidents/"+id+"/"+step.action, s.URL, url.Values{"csrf": {tok}, "note": {"fixed by rollback"}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: status %d", step.action, res.StatusCode)
			}
			got, err := m.Get(ctx, inc.ID)
			if err != nil || got.Status != step.status {
				t.Fatalf("after %s: status %q, %v", step.action, got.Status, err)
			}
		}
		res, _ = post(t, c, s.URL+"/incidents/"+id+"/note", s.URL, url.Values{"csrf": {tok}, "text": {"customer comms sent"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("note: status %d", res.StatusCode)
		}
		_, body = get(t, c, s.URL+"/incidents/"+id+"?done=closed")
		for _, want := range []string{"Incident closed.", "web:writer", "customer comms sent", "fixed by rollback"} {
			if !strings.Contains(body, want) {
				t.Errorf("detail page lacks %q", want)
			}
		}
		// Acknowledging a closed incident is a conflict shown as a page.
		if res, _ := post(t, c, s.URL+"/incidents/"+id+"/ack", s.URL, url.Values{"csrf": {tok}}); res.StatusCode < 400 || res.StatusCode >= 500 {
			t.Errorf("ack of a closed incident: status %d, want a 4xx", res.StatusCode)
		}
		if res, _ := get(t, c, s.URL+"/incidents/999999"); res.StatusCode != 404 {
			t.Errorf("unknown incident: %d", res.StatusCode)
		}
		if res, _ := get(t, c, s.URL+"/incidents/"+itoa(old.ID)); res.StatusCode != 200 {
			t.Errorf("old incident: %d", res.StatusCode)
		}
	})
}

func TestIncidentBulkAndControls(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		m := newIncidents(t, d)
		ctx := context.Background()
		var ids []int64
		for _, title := range []string{"Checkout errors", "Search slow", "Login failing"} {
			inc, err := m.Open(ctx, incident.OpenInput{Title: title, Services: []string{"checkout"}, Severity: "sev2", Actor: "test", NoPage: true, StartedAt: testNow.Add(-10 * time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, inc.ID)
		}
		if _, err := m.Resolve(ctx, ids[2], "test", ""); err != nil {
			t.Fatal(err)
		}
		s := newTestServer(t, d, Deps{PublicRead: true, Incidents: m})
		c := signIn(t, s, s.token(t, "writer", auth.ScopeWrite))
		_, body := get(t, c, s.URL+"/incidents")
		if !strings.Contains(body, `id="bulk-ack"`) || !strings.Contains(body, `name="id" value="`+itoa(ids[0])+`"`) {
			t.Fatalf("the list has no bulk controls:\n%s", body)
		}
		if strings.Contains(body, `name="id" value="`+itoa(ids[2])+`"`) {
			t.Errorf("a resolved incident can be ticked")
		}
		tok := csrfIn(t, body)

		// One resolved incident among the ticked ones: nothing changes.
		res, body := post(t, c, s.URL+"/incidents/bulk", s.URL, url.Values{"csrf": {tok}, "action": {"ack"}, "id": {itoa(ids[0]), itoa(ids[2])}})
		if res.StatusCode != http.StatusConflict || !strings.Contains(body, "nothing was changed") {
			t.Fatalf("bulk ack with a resolved incident: %d", res.StatusCode)
		}
		if got, _ := m.Get(ctx, ids[0]); got.Status != incident.Triggered {
			t.Fatalf("a failed bulk ack changed #%d to %s", ids[0], got.Status)
		}
		for _, bad := range []url.Values{
			{"csrf": {tok}, "action": {"ack"}},
			{"csrf": {tok}, "action": {"delete"}, "id": {itoa(ids[0])}},
			{"csrf": {tok}, "action": {"ack"}, "id": {"x"}},
		} {
			if res, _ := post(t, c, s.URL+"/incidents/bulk", s.URL, bad); res.StatusCode != http.StatusBadRequest {
				t.Errorf("bulk %v: status %d, want 400", bad, res.StatusCode)
			}
		}
		res, _ = post(t, c, s.URL+"/incidents/bulk", s.URL, url.Values{"csrf": {tok}, "action": {"ack"}, "id": {itoa(ids[0]), itoa(ids[1])}})
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/incidents?done=bulk-acknowledged&n=2" {
			t.Fatalf("bulk ack: %d %s", res.StatusCode, loc)
		}
		for _, id := range ids[:2] {
			if got, _ := m.Get(ctx, id); got.Status != incident.Acknowledged {
				t.Errorf("#%d after the bulk ack: %s", id, got.Status)
			}
		}
		if _, body := get(t, c, s.URL+"/incidents?done=bulk-acknowledged&n=2"); !strings.Contains(body, "2 incidents acknowledged.") {
			t.Errorf("no notice after the bulk ack")
		}
		// A row's own Resolve button goes back to the list.
		res, _ = post(t, c, s.URL+"/incidents/"+itoa(ids[1])+"/resolve", s.URL, url.Values{"csrf": {tok}, "back": {"list"}})
		if loc := res.Header.Get("Location"); loc != "/incidents?done=resolved" {
			t.Errorf("row resolve went to %q", loc)
		}

		// Severity and commander from the incident page, each on the
		// timeline; bad values change nothing.
		id := itoa(ids[0])
		for _, f := range []struct {
			action string
			form   url.Values
		}{{"severity", url.Values{"severity": {"sev1"}}}, {"commander", url.Values{"commander": {"alice"}}}} {
			f.form.Set("csrf", tok)
			if res, _ := post(t, c, s.URL+"/incidents/"+id+"/"+f.action, s.URL, f.form); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: status %d", f.action, res.StatusCode)
			}
		}
		if res, _ := post(t, c, s.URL+"/incidents/"+id+"/severity", s.URL, url.Values{"csrf": {tok}, "severity": {"sev9"}}); res.StatusCode != http.StatusBadRequest {
			t.Errorf("severity sev9: status %d", res.StatusCode)
		}
		got, _ := m.Get(ctx, ids[0])
		if got.Severity != "sev1" || got.Commander != "alice" {
			t.Errorf("after the forms: severity %s, commander %q", got.Severity, got.Commander)
		}
		_, body = get(t, c, s.URL+"/incidents/"+id)
		for _, want := range []string{"severity sev2 → sev1", "commander alice", `id="escalate"`} {
			if !strings.Contains(body, want) {
				t.Errorf("incident page lacks %q", want)
			}
		}
		// Escalating an incident without a policy is a conflict, not a 500.
		if res, _ := post(t, c, s.URL+"/incidents/"+id+"/escalate", s.URL, url.Values{"csrf": {tok}}); res.StatusCode != http.StatusConflict {
			t.Errorf("escalate without a policy: status %d, want 409", res.StatusCode)
		}
	})
}

func TestPagesSentNeverBlank(t *testing.T) {
	for _, e := range []incident.Event{
		{Kind: incident.EvPage, Message: "paged alice by email (attempt 2)"},
		{Kind: incident.EvPageFailed, Message: "bob has no contact method for their notification rules"},
		{Kind: incident.EvPageFailed, Message: "page to carol by sms failed (attempt 1): 503", Data: map[string]any{"person": "carol", "method": "sms", "attempt": float64(1)}},
		{Kind: incident.EvPageFailed, Message: "held", Data: map[string]any{"person": "dave", "method": "voice", "held_ms": float64(3000)}},
		{Kind: incident.EvPage, Message: "something else"},
	} {
		p := pageOf(e)
		if p.Person == "" || p.Method == "" || p.Attempt == "" {
			t.Errorf("%q: blank cell in %+v", e.Message, p)
		}
	}
	if p := pageOf(incident.Event{Kind: incident.EvPage, Message: "paged alice by email (attempt 2)"}); p.Person != "alice" || p.Method != "email" || p.Attempt != "2" {
		t.Errorf("from the message: %+v", p)
	}
	if p := pageOf(incident.Event{Kind: incident.EvPageFailed, Message: "bob has no contact method for their notification rules"}); p.Person != "bob" || p.Attempt != "not sent" {
		t.Errorf("no contact method: %+v", p)
	}
}

// dirs serves one on-call directory at every instant.
type dirs struct{ d *oncall.Directory }

func (s dirs) DirectoryAt(context.Context, time.Time) (*oncall.Directory, error) { return s.d, nil }

// TestIncidentReassignAndResponders: the incident page reassigns and adds
// responders, each on the timeline; an unknown person changes nothing.
func TestIncidentReassignAndResponders(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		m := newIncidents(t, d)
		hook := func(p string) oncall.PersonRules {
			return oncall.PersonRules{Person: p, ContactMethods: []oncall.ContactMethod{{Name: "hook", Type: oncall.ContactWebhook, Address: "https://hooks.example/" + p}}}
		}
		m.Directories = dirs{oncall.NewDirectory(oncall.Config{People: []oncall.PersonRules{hook("alice"), hook("bob")}}, testCatalog(), nil)}
		ctx := context.Background()
		inc, err := m.Open(ctx, incident.OpenInput{Title: "Checkout errors", Services: []string{"checkout"}, Severity: "sev2", Actor: "test", NoPage: true, StartedAt: testNow.Add(-10 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		s := newTestServer(t, d, Deps{PublicRead: true, Incidents: m})
		c := signIn(t, s, s.token(t, "writer", auth.ScopeWrite))
		id := itoa(inc.ID)
		_, body := get(t, c, s.URL+"/incidents/"+id)
		for _, want := range []string{`action="/incidents/` + id + `/reassign"`, `action="/incidents/` + id + `/responders"`, `id="assignee">nobody`, `id="responders">none asked`} {
			if !strings.Contains(body, want) {
				t.Fatalf("incident page lacks %q", want)
			}
		}
		tok := csrfIn(t, body)
		before, _ := m.Timeline(ctx, inc.ID)
		for _, bad := range []struct {
			action string
			form   url.Values
			status int
		}{
			{"reassign", url.Values{"to": {"person:mallory"}}, http.StatusUnprocessableEntity},
			{"reassign", url.Values{"to": {"policy:Nope"}}, http.StatusUnprocessableEntity},
			{"reassign", url.Values{"to": {""}}, http.StatusBadRequest},
			{"responders", url.Values{"person": {"bob", "zed"}}, http.StatusUnprocessableEntity},
			{"responders", url.Values{}, http.StatusBadRequest},
		} {
			bad.form.Set("csrf", tok)
			if res, _ := post(t, c, s.URL+"/incidents/"+id+"/"+bad.action, s.URL, bad.form); res.StatusCode != bad.status {
				t.Errorf("%s %v: status %d, want %d", bad.action, bad.form, res.StatusCode, bad.status)
			}
		}
		after, _ := m.Timeline(ctx, inc.ID)
		if got, _ := m.Get(ctx, inc.ID); len(after) != len(before) || got.Assignee != "" || len(got.Responders) != 0 {
			t.Fatalf("bad forms changed the incident: %+v, %d → %d timeline entries", got, len(before), len(after))
		}
		for _, f := range []struct {
			action string
			form   url.Values
		}{{"reassign", url.Values{"to": {"person:alice"}}}, {"responders", url.Values{"person": {"bob"}}}} {
			f.form.Set("csrf", tok)
			if res, _ := post(t, c, s.URL+"/incidents/"+id+"/"+f.action, s.URL, f.form); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: status %d", f.action, res.StatusCode)
			}
		}
		_, body = get(t, c, s.URL+"/incidents/"+id+"?done=responders-added")
		for _, want := range []string{`id="assignee">alice`, `id="responders">bob`, "reassigned from nobody to alice by web:writer", "bob asked to respond by web:writer: paging bob", "Responders asked"} {
			if !strings.Contains(body, want) {
				t.Errorf("incident page lacks %q", want)
			}
		}
	})
}
