package web

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/incident"
)

// Incidents is what the dashboard needs of the incident capability.
// *incident.Manager implements it.
type Incidents interface {
	Get(ctx context.Context, id int64) (incident.Incident, error)
	Open(ctx context.Context, in incident.OpenInput) (incident.Incident, error)
	List(ctx context.Context, f incident.Filter) ([]incident.Incident, error)
	Timeline(ctx context.Context, id int64) ([]incident.Event, error)
	Ack(ctx context.Context, id int64, actor string) (incident.Incident, error)
	Resolve(ctx context.Context, id int64, actor, note string) (incident.Incident, error)
	Close(ctx context.Context, id int64, actor string) (incident.Incident, error)
	AddNote(ctx context.Context, id int64, actor, text string) (incident.Event, error)
	Update(ctx context.Context, id int64, actor string, u incident.Update) (incident.Incident, error)
	Escalate(ctx context.Context, id int64, actor string) (incident.Incident, error)
	Reassign(ctx context.Context, id int64, actor string, to incident.Assignment) (incident.Incident, error)
	AddResponders(ctx context.Context, id int64, actor string, people []string) (incident.Incident, error)
	Windows(ctx context.Context, since time.Time) ([]incident.Window, error)
	EndWindow(ctx context.Context, id int64, actor string) (incident.Window, error)
	Heartbeats(ctx context.Context, hs []incident.Heartbeat, now time.Time) ([]incident.HeartbeatStatus, error)
}

// open reports whether an incident still needs attention.
func open(inc incident.Incident) bool {
	return inc.Status == incident.Triggered || inc.Status == incident.Acknowledged
}

// fillIncidents sets each row's open incidents; false when incidents are
// not wired.
func (h *Handler) fillIncidents(ctx context.Context, rows []overviewRow, index map[string]int) (bool, error) {
	if h.deps.Incidents == nil {
		return false, nil
	}
	incs, err := h.deps.Incidents.List(ctx, incident.Filter{Status: []string{incident.Triggered, incident.Acknowledged}, Limit: 1000})
	if err != nil {
		return true, err
	}
	for _, inc := range incs {
		for _, s := range inc.Services {
			if i, ok := index[s]; ok {
				rows[i].Incidents = append(rows[i].Incidents, incidentRef{ID: inc.ID, Title: inc.Title, Severity: inc.Severity, Status: inc.Status})
			}
		}
	}
	return true, nil
}

// incidentFilter is the incident list's filters, from the URL.
type incidentFilter struct {
	Status   string // open, triggered, acknowledged, resolved, closed, or "" for all
	Service  string
	Severity string
}

// incidentListData is the data of incidents.html.
type incidentListData struct {
	base
	URL       *url.URL
	Range     timeRange
	Presets   []string
	Filter    incidentFilter
	Incidents []incident.Incident
	Services  []string
	Open      int
	// MTTA and MTTR over the listed incidents that have them.
	MTTA, MTTR        time.Duration
	NAcked, NResolved int
}

// incidentList shows incidents in the time range, open ones first.
func (h *Handler) incidentList(w http.ResponseWriter, r *http.Request, b base) error {
	if h.deps.Incidents == nil {
		return unavailable("incidents")
	}
	q := r.URL.Query()
	tr, err := parseRange(q, b.Now, "28d")
	if err != nil {
		return err
	}
	f := incidentFilter{Status: q.Get("status"), Service: q.Get("service"), Severity: q.Get("severity")}
	lf := incident.Filter{Service: f.Service, Since: tr.From, Until: tr.To, Limit: 2000}
	switch f.Status {
	case "":
	case "open":
		lf.Status = []string{incident.Triggered, incident.Acknowledged}
	case incident.Triggered, incident.Acknowledged, incident.Resolved, incident.Closed:
		lf.Status = []string{f.Status}
	default:
		return tandem.FieldErrorf("status", "status must be open, triggered, acknowledged, resolved or closed; got %q", f.Status)
	}
	if f.Severity != "" {
		sev, ok := incident.ParseSeverity(f.Severity)
		if !ok {
			return tandem.FieldErrorf("severity", "severity must be sev1 to sev4; got %q", f.Severity)
		}
		lf.Severity, f.Severity = sev, sev
	}
	if f.Service != "" {
		if _, ok := h.deps.Config.Get().Catalog.Service(f.Service); !ok {
			return tandem.FieldErrorf("service", "no service named %q", f.Service)
		}
	}
	incs, err := h.deps.Incidents.List(r.Context(), lf)
	if err != nil {
		return err
	}
	// Open incidents started before the range still need attention: show
	// them too when the filter allows open ones.
	if f.Status == "" || f.Status == "open" || f.Status == incident.Triggered || f.Status == incident.Acknowledged {
		older, err := h.deps.Incidents.List(r.Context(), incident.Filter{Status: []string{incident.Triggered, incident.Acknowledged},
			Service: lf.Service, Severity: lf.Severity, Until: tr.From, Limit: 1000})
		if err != nil {
			return err
		}
		for _, inc := range older {
			if lf.Status == nil || slices.Contains(lf.Status, inc.Status) {
				incs = append(incs, inc)
			}
		}
	}
	sortIncidents(incs)
	d := incidentListData{base: b, URL: r.URL, Range: tr, Presets: rangePresets, Filter: f, Incidents: incs,
		Services: h.deps.Config.Get().Catalog.ServiceNames()}
	d.Title = "Incidents"
	var acks, res time.Duration
	for _, inc := range incs {
		if open(inc) {
			d.Open++
		}
		if inc.AcknowledgedAt != nil {
			acks += inc.AcknowledgedAt.Sub(inc.DetectedAt)
			d.NAcked++
		}
		if inc.ResolvedAt != nil {
			res += inc.ResolvedAt.Sub(inc.StartedAt)
			d.NResolved++
		}
	}
	if d.NAcked > 0 {
		d.MTTA = acks / time.Duration(d.NAcked)
	}
	if d.NResolved > 0 {
		d.MTTR = res / time.Duration(d.NResolved)
	}
	h.render(w, http.StatusOK, "incidents.html", d)
	return nil
}

// sortIncidents puts open incidents first (most severe, then newest), then
// the rest newest first.
func sortIncidents(incs []incident.Incident) {
	sort.SliceStable(incs, func(i, j int) bool {
		a, b := incs[i], incs[j]
		if open(a) != open(b) {
			return open(a)
		}
		if open(a) && a.Severity != b.Severity {
			return a.Severity < b.Severity
		}
		if !a.StartedAt.Equal(b.StartedAt) {
			return a.StartedAt.After(b.StartedAt)
		}
		return a.ID > b.ID
	})
}

// pageSent is one page (notification) from an incident's timeline.
type pageSent struct {
	At      time.Time
	Person  string
	Method  string
	Attempt string
	OK      bool
	Message string
}

// Page events' messages, for events whose data does not say who was paged
// and how (older events, imported history, a person without a contact
// method).
var (
	pagedRe   = regexp.MustCompile(`^paged (\S+) by (\S+) \(attempt (\d+)\)`)
	failedRe  = regexp.MustCompile(`^page to (\S+) by (\S+) failed \(attempt (\d+)\)`)
	noRouteRe = regexp.MustCompile(`^(\S+) has no contact method`)
)

// pageOf reads one page from a timeline event. Every cell says something:
// a page that was never sent says so instead of leaving To, By or Attempt
// blank.
func pageOf(e incident.Event) pageSent {
	p := pageSent{At: e.At, OK: e.Kind == incident.EvPage, Message: e.Message}
	p.Person, _ = e.Data["person"].(string)
	p.Method, _ = e.Data["method"].(string)
	switch a := e.Data["attempt"].(type) {
	case float64:
		p.Attempt = strconv.Itoa(int(a))
	case int:
		p.Attempt = strconv.Itoa(a)
	case int64:
		p.Attempt = strconv.FormatInt(a, 10)
	}
	for _, re := range []*regexp.Regexp{pagedRe, failedRe} {
		if m := re.FindStringSubmatch(e.Message); m != nil {
			p.Person = cmp.Or(p.Person, m[1])
			p.Method = cmp.Or(p.Method, m[2])
			p.Attempt = cmp.Or(p.Attempt, m[3])
		}
	}
	if m := noRouteRe.FindStringSubmatch(e.Message); m != nil {
		p.Person = cmp.Or(p.Person, m[1])
		p.Method = cmp.Or(p.Method, "no contact method")
		p.Attempt = cmp.Or(p.Attempt, "not sent")
	}
	if _, held := e.Data["held_ms"]; held {
		p.Attempt = cmp.Or(p.Attempt, "held, will retry")
	}
	p.Person = cmp.Or(p.Person, "unknown")
	p.Method = cmp.Or(p.Method, "unknown")
	p.Attempt = cmp.Or(p.Attempt, "not recorded")
	return p
}

// incidentDetailData is the data of incident.html.
type incidentDetailData struct {
	base
	Incident incident.Incident
	Timeline []incident.Event
	Pages    []pageSent
	Open     bool
	CanAck   bool
	// People and Policies are what the reassign and add-responder forms
	// offer: the catalog's people and those with on-call contact methods,
	// and the escalation policies.
	People, Policies []string
	// TimeToAck and TimeToResolve are zero until they happen.
	TimeToAck, TimeToResolve time.Duration
}

// incidentDetail shows one incident with its timeline, suspects, pages and
// the lifecycle buttons.
func (h *Handler) incidentDetail(w http.ResponseWriter, r *http.Request, b base) error {
	if h.deps.Incidents == nil {
		return unavailable("incidents")
	}
	id, err := pathID(r, "incident")
	if err != nil {
		return err
	}
	inc, err := h.deps.Incidents.Get(r.Context(), id)
	if err != nil {
		return err
	}
	tl, err := h.deps.Incidents.Timeline(r.Context(), id)
	if err != nil {
		return err
	}
	d := incidentDetailData{base: b, Incident: inc, Timeline: tl, Open: open(inc), CanAck: inc.Status == incident.Triggered}
	d.Title = "#" + itoa(inc.ID) + " " + inc.Title
	d.Section = "incidents"
	if cfg := h.deps.Config.Get(); cfg != nil {
		if cfg.Catalog != nil {
			for _, p := range cfg.Catalog.People {
				d.People = append(d.People, p.Name)
			}
		}
		for _, p := range cfg.Oncall.People {
			d.People = append(d.People, p.Person)
		}
		for _, p := range cfg.Oncall.Policies {
			d.Policies = append(d.Policies, p.Name)
		}
		slices.Sort(d.People)
		d.People = slices.Compact(d.People)
	}
	if inc.AcknowledgedAt != nil {
		d.TimeToAck = inc.AcknowledgedAt.Sub(inc.DetectedAt)
	}
	if inc.ResolvedAt != nil {
		d.TimeToResolve = inc.ResolvedAt.Sub(inc.StartedAt)
	}
	for _, e := range tl {
		if e.Kind != incident.EvPage && e.Kind != incident.EvPageFailed {
			continue
		}
		d.Pages = append(d.Pages, pageOf(e))
	}
	h.render(w, http.StatusOK, "incident.html", d)
	return nil
}

// declareIncident opens an incident from the list page's form: one service,
// a severity, a title and an optional summary. It pages like one opened
// through the API or the CLI.
func (h *Handler) declareIncident(w http.ResponseWriter, r *http.Request, v viewer) error {
	if h.deps.Incidents == nil {
		return unavailable("incidents")
	}
	in := incident.OpenInput{
		Title:    strings.TrimSpace(r.PostFormValue("title")),
		Services: []string{strings.TrimSpace(r.PostFormValue("service"))},
		Severity: r.PostFormValue("severity"),
		Summary:  strings.TrimSpace(r.PostFormValue("summary")),
		Actor:    "web:" + v.Name,
		Source:   "web",
	}
	if len(in.Summary) > 10000 {
		return tandem.FieldErrorf("summary", "the summary is longer than 10000 characters")
	}
	if _, ok := h.deps.Config.Get().Catalog.Service(in.Services[0]); !ok {
		return tandem.FieldErrorf("service", "no service named %q", in.Services[0])
	}
	inc, err := h.deps.Incidents.Open(r.Context(), in)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/incidents/"+itoa(inc.ID)+"?done=declared", http.StatusSeeOther)
	return nil
}

// incidentAction runs ack, resolve, close or note from the incident page's
// forms and goes back to the page.
func (h *Handler) incidentAction(w http.ResponseWriter, r *http.Request, v viewer) error {
	if h.deps.Incidents == nil {
		return unavailable("incidents")
	}
	id, err := pathID(r, "incident")
	if err != nil {
		return err
	}
	actor := "web:" + v.Name
	ctx := r.Context()
	var done string
	switch r.PathValue("action") {
	case "ack":
		_, err = h.deps.Incidents.Ack(ctx, id, actor)
		done = "acknowledged"
	case "resolve":
		note := strings.TrimSpace(r.PostFormValue("note"))
		if len(note) > 10000 {
			return tandem.FieldErrorf("note", "the note is longer than 10000 characters")
		}
		_, err = h.deps.Incidents.Resolve(ctx, id, actor, note)
		done = "resolved"
	case "close":
		_, err = h.deps.Incidents.Close(ctx, id, actor)
		done = "closed"
	case "escalate":
		_, err = h.deps.Incidents.Escalate(ctx, id, actor)
		done = "escalated"
	case "severity":
		sev := r.PostFormValue("severity")
		if _, ok := incident.ParseSeverity(sev); !ok {
			return tandem.FieldErrorf("severity", "severity must be sev1 to sev4; got %q", sev)
		}
		_, err = h.deps.Incidents.Update(ctx, id, actor, incident.Update{Severity: &sev})
		done = "updated"
	case "commander":
		who := strings.TrimSpace(r.PostFormValue("commander"))
		if len(who) > 200 {
			return tandem.FieldErrorf("commander", "the commander's name is longer than 200 characters")
		}
		_, err = h.deps.Incidents.Update(ctx, id, actor, incident.Update{Commander: &who})
		done = "updated"
	case "reassign":
		// One select offers people and policies: "person:NAME" or
		// "policy:NAME".
		kind, name, _ := strings.Cut(r.PostFormValue("to"), ":")
		switch kind {
		case "person":
			_, err = h.deps.Incidents.Reassign(ctx, id, actor, incident.Assignment{Person: name})
		case "policy":
			_, err = h.deps.Incidents.Reassign(ctx, id, actor, incident.Assignment{Policy: name})
		default:
			return tandem.FieldErrorf("to", "pick a person or an escalation policy to reassign to")
		}
		done = "reassigned"
	case "responders":
		if err := r.ParseForm(); err != nil {
			return tandem.Errorf(tandem.EInvalid, "the form could not be read: %v", err)
		}
		_, err = h.deps.Incidents.AddResponders(ctx, id, actor, r.PostForm["person"])
		done = "responders-added"
	case "note":
		text := strings.TrimSpace(r.PostFormValue("text"))
		if text == "" {
			return tandem.FieldErrorf("text", "the note is empty")
		}
		if len(text) > 10000 {
			return tandem.FieldErrorf("text", "the note is longer than 10000 characters")
		}
		_, err = h.deps.Incidents.AddNote(ctx, id, actor, text)
		done = "noted"
	default:
		return tandem.Errorf(tandem.ENotFound, "no incident action %q", r.PathValue("action"))
	}
	if err != nil {
		return err
	}
	if r.PostFormValue("back") == "list" {
		http.Redirect(w, r, "/incidents?done="+done, http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/incidents/"+itoa(id)+"?done="+done, http.StatusSeeOther)
	return nil
}

// maxBulk bounds how many incidents one bulk action changes.
const maxBulk = 200

// bulkAction acknowledges or resolves the incidents ticked on the list in
// one go. Every incident is checked first: if one cannot take the action
// (unknown, or already past it) nothing changes and the error names it.
func (h *Handler) bulkAction(w http.ResponseWriter, r *http.Request, v viewer) error {
	if h.deps.Incidents == nil {
		return unavailable("incidents")
	}
	if err := r.ParseForm(); err != nil {
		return tandem.Errorf(tandem.EInvalid, "the form could not be read: %v", err)
	}
	action := r.PostForm.Get("action")
	var allowed []string
	switch action {
	case "ack":
		allowed = []string{incident.Triggered}
	case "resolve":
		allowed = []string{incident.Triggered, incident.Acknowledged}
	default:
		return tandem.FieldErrorf("action", "action must be ack or resolve; got %q", action)
	}
	raw := r.PostForm["id"]
	if len(raw) == 0 {
		return tandem.FieldErrorf("id", "tick at least one incident")
	}
	if len(raw) > maxBulk {
		return tandem.FieldErrorf("id", "at most %d incidents at once; got %d", maxBulk, len(raw))
	}
	ctx := r.Context()
	var ids []int64
	seen := map[int64]bool{}
	for _, s := range raw {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return tandem.FieldErrorf("id", "%q is not an incident number", s)
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		inc, err := h.deps.Incidents.Get(ctx, id)
		if err != nil {
			return err
		}
		if !slices.Contains(allowed, inc.Status) {
			return tandem.Errorf(tandem.EConflict, "incident #%d is %s; nothing was changed", id, inc.Status)
		}
		ids = append(ids, id)
	}
	actor := "web:" + v.Name
	for _, id := range ids {
		var err error
		if action == "ack" {
			_, err = h.deps.Incidents.Ack(ctx, id, actor)
		} else {
			_, err = h.deps.Incidents.Resolve(ctx, id, actor, strings.TrimSpace(r.PostForm.Get("note")))
		}
		if err != nil {
			return err
		}
	}
	done := "bulk-acknowledged"
	if action == "resolve" {
		done = "bulk-resolved"
	}
	http.Redirect(w, r, "/incidents?done="+done+"&n="+strconv.Itoa(len(ids)), http.StatusSeeOther)
	return nil
}

// unavailable is the error of a page whose capability is not wired.
func unavailable(what string) error {
	return tandem.Errorf(tandem.EUnavailable, "%s are not available on this server", what)
}
