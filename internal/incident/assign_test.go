package incident_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	tandem "github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/incident"
)

func kinds(t *testing.T, h *harness, id int64, kind string) []string {
	t.Helper()
	tl, err := h.m.Timeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range tl {
		if e.Kind == kind {
			out = append(out, e.Message)
		}
	}
	return out
}

// TestReassign: reassigning to a person stops the old escalation and pages
// the person now; an unknown person or policy changes nothing; reassigning
// to a policy pages it from its first rule; a resolved incident cannot be
// reassigned.
func TestReassign(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		inc, err := h.m.Open(ctx, incident.OpenInput{Title: "x", Services: []string{"checkout"}, Severity: "sev2"})
		if err != nil {
			t.Fatal(err)
		}
		h.walk(t, 2*time.Minute, time.Minute) // dev1 paged at 0
		if _, err := h.m.Ack(ctx, inc.ID, "dev1"); err != nil {
			t.Fatal(err)
		}
		got, err := h.m.Reassign(ctx, inc.ID, "dev1", incident.Assignment{Person: "bob"})
		if err != nil || got.Assignee != "bob" || got.Status != incident.Triggered {
			t.Fatalf("reassign = %+v, %v", got, err)
		}
		h.walk(t, 30*time.Minute, time.Minute)
		// alice (rule 2 at 10m) is never paged: the old escalation stopped.
		want := []string{"0s:dev1", "2m0s:bob"}
		if g := minutes(h.rcv.got()); !slices.Equal(g, want) {
			t.Fatalf("pages = %v, want %v", g, want)
		}
		if r := kinds(t, h, inc.ID, incident.EvReassign); len(r) != 1 || !strings.Contains(r[0], "to bob by dev1") {
			t.Fatalf("reassign entries = %q", r)
		}
		if p := kinds(t, h, inc.ID, incident.EvPage); len(p) != 2 || !strings.Contains(p[1], "paged bob by hook (attempt 1)") {
			t.Fatalf("page entries = %q", p)
		}

		before, _ := h.m.Timeline(ctx, inc.ID)
		for _, to := range []incident.Assignment{{Person: "mallory"}, {Policy: "No Such Policy"}, {}, {Person: "bob", Policy: "Dev-SRE Escalation Policy"}} {
			_, err := h.m.Reassign(ctx, inc.ID, "dev1", to)
			if err == nil {
				t.Fatalf("reassign to %+v succeeded", to)
			}
			if name := to.Person + to.Policy; (to.Person == "") != (to.Policy == "") {
				if tandem.ErrorCode(err) != tandem.EUnprocessable || !strings.Contains(tandem.ErrorMessage(err), name) {
					t.Fatalf("reassign to %+v = %v, want unprocessable naming it", to, err)
				}
			}
		}
		after, _ := h.m.Timeline(ctx, inc.ID)
		if cur, _ := h.m.Get(ctx, inc.ID); len(after) != len(before) || cur.Assignee != "bob" {
			t.Fatalf("bad reassignments changed the incident: assignee %q, %d → %d timeline entries", cur.Assignee, len(before), len(after))
		}

		got, err = h.m.Reassign(ctx, inc.ID, "bob", incident.Assignment{Policy: "Dev-SRE Escalation Policy"})
		if err != nil || got.Assignee != "" || got.Policy != "Dev-SRE Escalation Policy" {
			t.Fatalf("reassign to policy = %+v, %v", got, err)
		}
		h.walk(t, 11*time.Minute, time.Minute)
		want = append(want, "32m0s:dev1", "42m0s:alice")
		if g := minutes(h.rcv.got()); !slices.Equal(g, want) {
			t.Fatalf("pages = %v, want %v", g, want)
		}
		if _, err := h.m.Resolve(ctx, inc.ID, "dev1", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := h.m.Reassign(ctx, inc.ID, "dev1", incident.Assignment{Person: "alice"}); tandem.ErrorCode(err) != tandem.EConflict {
			t.Fatalf("reassigning a resolved incident = %v, want a conflict", err)
		}
	})
}

// TestAddResponders: responders are paged now, even on an acknowledged
// incident, without changing its assignment; a person added twice is paged
// once; an unknown person changes nothing.
func TestAddResponders(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		inc, err := h.m.Open(ctx, incident.OpenInput{Title: "x", Services: []string{"checkout"}, Severity: "sev2"})
		if err != nil {
			t.Fatal(err)
		}
		h.walk(t, time.Minute, time.Minute) // dev1 paged at 0
		if _, err := h.m.Ack(ctx, inc.ID, "dev1"); err != nil {
			t.Fatal(err)
		}
		got, err := h.m.AddResponders(ctx, inc.ID, "dev1", []string{"alice", " alice "})
		if err != nil || len(got.Responders) != 1 || got.Responders[0].Person != "alice" || got.Responders[0].RequestedBy != "dev1" {
			t.Fatalf("add = %+v, %v", got.Responders, err)
		}
		if got.Status != incident.Acknowledged || got.Assignee != "" || got.Policy != inc.Policy {
			t.Fatalf("adding a responder changed the assignment: %+v", got)
		}
		h.walk(t, time.Minute, time.Minute)
		before, _ := h.m.Timeline(ctx, inc.ID)
		if _, err := h.m.AddResponders(ctx, inc.ID, "dev1", []string{"bob", "mallory"}); tandem.ErrorCode(err) != tandem.EUnprocessable ||
			!strings.Contains(tandem.ErrorMessage(err), `"mallory"`) {
			t.Fatalf("adding mallory = %v, want unprocessable naming her", err)
		}
		if _, err := h.m.AddResponders(ctx, inc.ID, "dev1", nil); tandem.ErrorCode(err) != tandem.EInvalid {
			t.Fatalf("adding nobody = %v, want invalid", err)
		}
		after, _ := h.m.Timeline(ctx, inc.ID)
		if cur, _ := h.m.Get(ctx, inc.ID); len(after) != len(before) || len(cur.Responders) != 1 {
			t.Fatalf("bad requests changed the incident: %+v, %d → %d timeline entries", cur.Responders, len(before), len(after))
		}
		got, err = h.m.AddResponders(ctx, inc.ID, "alice", []string{"alice", "bob"})
		if err != nil || len(got.Responders) != 2 {
			t.Fatalf("add = %+v, %v", got.Responders, err)
		}
		h.walk(t, 30*time.Minute, time.Minute)
		want := []string{"0s:dev1", "1m0s:alice", "2m0s:bob"}
		if g := minutes(h.rcv.got()); !slices.Equal(g, want) {
			t.Fatalf("pages = %v, want %v", g, want)
		}
		r := kinds(t, h, inc.ID, incident.EvResponder)
		if len(r) != 3 || !strings.Contains(r[0], "alice asked to respond by dev1") || !strings.Contains(r[1], "already") || !strings.Contains(r[2], "bob asked") {
			t.Fatalf("responder entries = %q", r)
		}
		if p := kinds(t, h, inc.ID, incident.EvPage); len(p) != 3 {
			t.Fatalf("page entries = %q", p)
		}
		if _, err := h.m.Resolve(ctx, inc.ID, "dev1", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := h.m.AddResponders(ctx, inc.ID, "dev1", []string{"bob"}); tandem.ErrorCode(err) != tandem.EConflict {
			t.Fatalf("adding to a resolved incident = %v, want a conflict", err)
		}
	})
}

// TestReassignedAckTimeoutPagesAssignee: an incident reassigned to a person
// and acknowledged, then not resolved within the ack timeout, pages that
// person again rather than its policy.
func TestReassignedAckTimeoutPagesAssignee(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 20)
		ctx := context.Background()
		inc, err := h.m.Open(ctx, incident.OpenInput{Title: "x", Services: []string{"checkout"}, Severity: "sev2"})
		if err != nil {
			t.Fatal(err)
		}
		h.walk(t, time.Minute, time.Minute) // dev1 paged at 0
		if _, err := h.m.Reassign(ctx, inc.ID, "dev1", incident.Assignment{Person: "bob"}); err != nil {
			t.Fatal(err)
		}
		h.walk(t, time.Minute, time.Minute) // bob paged at 1m
		if _, err := h.m.Ack(ctx, inc.ID, "bob"); err != nil {
			t.Fatal(err)
		}
		h.walk(t, 25*time.Minute, time.Minute)
		want := []string{"0s:dev1", "1m0s:bob", "22m0s:bob"}
		if g := minutes(h.rcv.got()); !slices.Equal(g, want) {
			t.Fatalf("pages = %v, want %v", g, want)
		}
	})
}
