package api

import (
	"bytes"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/oncall"
)

// OncallDeps is what the on-call schedules, overrides and escalation
// policies endpoints need.
type OncallDeps struct {
	// Service joins the live config with stored overrides (nil: the
	// endpoints answer 503).
	Service *oncall.Service
}

// maxShiftSpan bounds the range of a shifts query or calendar feed.
const maxShiftSpan = 366 * 24 * time.Hour

// oncallRoutes registers the on-call schedules, overrides and escalation
// policies endpoints. Calendar apps cannot send headers, so the .ics feeds
// GET /api/v1/schedules/{name}.ics and GET /api/v1/oncall/people/{name}.ics
// also take the read token as ?token=; GET /api/v1/people/{name}.ics (the
// catalog's person route) takes it as a Bearer header, or none with public
// reads.
func (s *Server) oncallRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET /api/v1/schedules", auth.ScopeRead, s.listSchedules)
	s.handle(mux, "GET /api/v1/schedules/{name}", "", s.getSchedule)
	s.handle(mux, "GET /api/v1/schedules/{name}/oncall", auth.ScopeRead, s.scheduleOncall)
	s.handle(mux, "GET /api/v1/schedules/{name}/shifts", auth.ScopeRead, s.scheduleShifts)
	s.handle(mux, "GET /api/v1/schedules/{name}/overrides", auth.ScopeRead, s.listOverrides)
	s.handle(mux, "POST /api/v1/schedules/{name}/overrides", auth.ScopeWrite, s.createOverride)
	s.handle(mux, "DELETE /api/v1/schedules/{name}/overrides/{id}", auth.ScopeWrite, s.deleteOverride)
	// GET /api/v1/people/{name}.ics is served by getPerson (catalog.go),
	// which hands .ics names to personCalendar; this alias takes ?token=.
	s.handle(mux, "GET /api/v1/oncall/people/{name}", "", s.personCalendar)
	s.handle(mux, "GET /api/v1/oncall", auth.ScopeRead, s.oncallNow)
	s.handle(mux, "GET /api/v1/escalation_policies", auth.ScopeRead, s.listPolicies)
}

func (s *Server) oncallService() (*oncall.Service, error) {
	if s.Oncall.Service == nil {
		return nil, tandem.Errorf(tandem.EUnavailable, "on-call is not configured on this server")
	}
	return s.Oncall.Service, nil
}

// directory returns the directory with stored overrides overlapping
// [from, to).
func (s *Server) directory(r *http.Request, from, to time.Time) (*oncall.Directory, error) {
	svc, err := s.oncallService()
	if err != nil {
		return nil, err
	}
	return svc.Directory(r.Context(), from, to)
}

// schedule finds the named schedule, or a 404 naming close matches.
func schedule(d *oncall.Directory, name string) (*oncall.Schedule, error) {
	sc, ok := d.Schedule(name)
	if ok {
		return sc, nil
	}
	msg := "no schedule named " + name
	if c := catalog.Closest(name, d.ScheduleNames(), 3); len(c) > 0 {
		msg += "; did you mean " + strings.Join(c, ", ") + "?"
	}
	return nil, tandem.Errorf(tandem.ENotFound, "%s", msg)
}

func (s *Server) listSchedules(w http.ResponseWriter, r *http.Request) error {
	now := s.Clock.Now()
	d, err := s.directory(r, now, now.Add(oncall.LookAhead))
	if err != nil {
		return err
	}
	out := []oncall.ScheduleView{}
	for _, sc := range d.Schedules() {
		v := sc.View()
		c := oncall.CurrentOf(sc, now)
		v.Current = &c
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, newList(out))
	return nil
}

// getSchedule answers a schedule's detail, or its calendar for a name
// ending in .ics.
func (s *Server) getSchedule(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	base, feed := strings.CutSuffix(name, ".ics")
	if err := s.authorizeFeed(r, feed); err != nil {
		return err
	}
	if feed {
		return s.scheduleICS(w, r, base)
	}
	now := s.Clock.Now()
	d, err := s.directory(r, now, now.Add(oncall.LookAhead))
	if err != nil {
		return err
	}
	sc, err := schedule(d, name)
	if err != nil {
		return err
	}
	v := sc.View()
	c := oncall.CurrentOf(sc, now)
	v.Current = &c
	writeJSON(w, http.StatusOK, v)
	return nil
}

// authorizeFeed is the read check for routes that calendar apps call.
// Calendar apps cannot send headers, so an .ics feed (feed true) also
// takes the token as ?token=, and only a read-scoped one: a URL is pasted
// into calendar apps and shared, and a token that can write or administer
// must not travel that way. Everything else (the schedule's JSON) takes
// the token only as Authorization: Bearer, like every other read.
func (s *Server) authorizeFeed(r *http.Request, feed bool) error {
	secret := BearerToken(r)
	inURL := false
	if secret == "" && r.URL.Query().Has("token") {
		if !feed {
			return tandem.Errorf(tandem.EUnauthorized, "?token= is taken only by .ics calendar feeds; send Authorization: Bearer <token>")
		}
		secret, inURL = r.URL.Query().Get("token"), true
	}
	if secret == "" {
		if s.PublicRead {
			return nil
		}
		if !feed {
			return tandem.Errorf(tandem.EUnauthorized, "missing token: send Authorization: Bearer <token>")
		}
		return tandem.Errorf(tandem.EUnauthorized, "missing token: send Authorization: Bearer <token> or ?token=<read token>")
	}
	tok, err := s.Tokens.Verify(r.Context(), secret)
	if err != nil {
		return err
	}
	if inURL && tok.Scope != auth.ScopeRead {
		return tandem.Errorf(tandem.EForbidden, "token %q has scope %s; ?token= takes only a read token (a URL is shared with calendar apps): create one with `tandem token create --scope read`", tok.Name, tok.Scope)
	}
	if !tok.Scope.Allows(auth.ScopeRead) {
		return tandem.Errorf(tandem.EForbidden, "token %q has scope %s; this needs %s", tok.Name, tok.Scope, auth.ScopeRead)
	}
	return nil
}

// saneTime rejects instants outside 1970-2200: schedules are not asked
// about other centuries, and the bound keeps every computation small.
func saneTime(field string, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	if t.Year() < 1970 || t.Year() > 2200 {
		return tandem.FieldErrorf(field, "expected a time between 1970 and 2200, got %s", t.Format(time.RFC3339))
	}
	return nil
}

// feedRange reads ?from= and ?to= for a calendar (default: a week ago to
// 60 days ahead).
func (s *Server) feedRange(r *http.Request, now time.Time, defFrom, defTo time.Duration) (time.Time, time.Time, error) {
	from, err := queryTime(r, "from", now)
	if err != nil {
		return from, from, err
	}
	if from.IsZero() {
		from = now.Add(defFrom)
	}
	to, err := queryFutureTime(r, "to", now)
	if err != nil {
		return from, to, err
	}
	if to.IsZero() {
		to = from.Add(defTo - defFrom)
	}
	if err := saneTime("from", from); err != nil {
		return from, to, err
	}
	if err := saneTime("to", to); err != nil {
		return from, to, err
	}
	if !to.After(from) {
		return from, to, tandem.FieldErrorf("to", "must be after from (%s)", from.Format(time.RFC3339))
	}
	if to.Sub(from) > maxShiftSpan {
		return from, to, tandem.FieldErrorf("to", "the range may span at most 366 days")
	}
	return from, to, nil
}

// queryFutureTime is queryTime where a bare duration means from now on
// ("30d" is 30 days ahead), as an end of range usually is.
func queryFutureTime(r *http.Request, name string, now time.Time) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := tandem.ParseDuration(strings.TrimPrefix(v, "+")); err == nil {
		return now.Add(d), nil
	}
	return queryTime(r, name, now)
}

func (s *Server) scheduleICS(w http.ResponseWriter, r *http.Request, name string) error {
	now := s.Clock.Now()
	from, to, err := s.feedRange(r, now, -7*24*time.Hour, 60*24*time.Hour)
	if err != nil {
		return err
	}
	d, err := s.directory(r, from, to)
	if err != nil {
		return err
	}
	sc, err := schedule(d, name)
	if err != nil {
		return err
	}
	return writeICS(w, oncall.Calendar{Name: "On call: " + sc.Name, Shifts: sc.Shifts(from, to), Stamp: now, Host: r.Host})
}

func writeICS(w http.ResponseWriter, cal oncall.Calendar) error {
	var buf bytes.Buffer
	if err := oncall.WriteICS(&buf, cal); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// personCalendar answers GET /api/v1/people/{name}.ics: the person's shifts
// in every schedule.
func (s *Server) personCalendar(w http.ResponseWriter, r *http.Request) error {
	name, ok := strings.CutSuffix(r.PathValue("name"), ".ics")
	if !ok {
		return notFound("no such endpoint: %s %s (people are listed at /api/v1/people; calendars at /api/v1/people/{name}.ics)", r.Method, r.URL.Path)
	}
	if err := s.authorizeFeed(r, true); err != nil {
		return err
	}
	cat := s.catalog()
	if _, ok := cat.Person(name); !ok {
		return s.unknownPerson(name, tandem.ENotFound, "")
	}
	now := s.Clock.Now()
	from, to, err := s.feedRange(r, now, -7*24*time.Hour, 60*24*time.Hour)
	if err != nil {
		return err
	}
	d, err := s.directory(r, from, to)
	if err != nil {
		return err
	}
	return writeICS(w, oncall.Calendar{Name: "On call: " + name, Shifts: d.PersonShifts(name, from, to), Stamp: now, Host: r.Host})
}

func (s *Server) unknownPerson(name, code, field string) error {
	names := make([]string, 0, len(s.catalog().People))
	for _, p := range s.catalog().People {
		names = append(names, p.Name)
	}
	msg := "no person named " + name
	if c := catalog.Closest(name, names, 3); len(c) > 0 {
		msg += "; did you mean " + strings.Join(c, ", ") + "?"
	}
	return &tandem.Error{Code: code, Field: field, Message: msg}
}

func (s *Server) scheduleOncall(w http.ResponseWriter, r *http.Request) error {
	now := s.Clock.Now()
	at, err := queryTime(r, "at", now)
	if err != nil {
		return err
	}
	if at.IsZero() {
		at = now
	}
	if err := saneTime("at", at); err != nil {
		return err
	}
	svc, err := s.oncallService()
	if err != nil {
		return err
	}
	d, err := svc.DirectoryAt(r.Context(), at)
	if err != nil {
		return err
	}
	sc, err := schedule(d, r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sc.Resolve(at))
	return nil
}

func (s *Server) scheduleShifts(w http.ResponseWriter, r *http.Request) error {
	now := s.Clock.Now()
	from, to, err := s.feedRange(r, now, 0, 7*24*time.Hour)
	if err != nil {
		return err
	}
	d, err := s.directory(r, from, to)
	if err != nil {
		return err
	}
	sc, err := schedule(d, r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(sc.Shifts(from, to)))
	return nil
}

func (s *Server) listOverrides(w http.ResponseWriter, r *http.Request) error {
	now := s.Clock.Now()
	svc, err := s.oncallService()
	if err != nil {
		return err
	}
	cfg, _ := svc.Source()
	d := oncall.NewDirectory(cfg, nil, nil)
	sc, err := schedule(d, r.PathValue("name"))
	if err != nil {
		return err
	}
	from, err := queryTime(r, "from", now)
	if err != nil {
		return err
	}
	to, err := queryFutureTime(r, "to", now)
	if err != nil {
		return err
	}
	if err := saneTime("from", from); err != nil {
		return err
	}
	if err := saneTime("to", to); err != nil {
		return err
	}
	list, err := svc.Store.List(r.Context(), sc.Name, from, to)
	if err != nil {
		return err
	}
	// Config overrides come first: they are part of the schedule too.
	out := []oncall.Override{}
	for _, o := range sc.Overrides {
		if (from.IsZero() || o.End.After(from)) && (to.IsZero() || o.Start.Before(to)) {
			out = append(out, o)
		}
	}
	out = append(out, list...)
	writeJSON(w, http.StatusOK, newList(out))
	return nil
}

// overrideBody is the body of POST /api/v1/schedules/{name}/overrides.
type overrideBody struct {
	Person string `json:"person"`
	Start  string `json:"start"`
	End    string `json:"end"`
	Reason string `json:"reason"`
	// Author is the person who made the override; default: the token's name.
	Author string `json:"author"`
}

func (s *Server) createOverride(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.oncallService()
	if err != nil {
		return err
	}
	var body overrideBody
	if err := decode(r, &body); err != nil {
		return err
	}
	cfg, _ := svc.Source()
	sc, err := schedule(oncall.NewDirectory(cfg, nil, nil), r.PathValue("name"))
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	o := oncall.Override{Schedule: sc.Name, Person: body.Person, Reason: body.Reason, Author: body.Author}
	if o.Person == "" {
		return tandem.FieldErrorf("person", "required: the person who covers")
	}
	if _, ok := s.catalog().Person(o.Person); !ok {
		return s.unknownPerson(o.Person, tandem.EUnprocessable, "person")
	}
	if o.Author != "" {
		if _, ok := s.catalog().Person(o.Author); !ok {
			return s.unknownPerson(o.Author, tandem.EUnprocessable, "author")
		}
	} else {
		o.Author = actor(r)
	}
	for _, f := range []struct {
		name string
		in   string
		out  *time.Time
	}{{"start", body.Start, &o.Start}, {"end", body.End, &o.End}} {
		if f.in == "" {
			return tandem.FieldErrorf(f.name, "required: RFC 3339 such as 2026-11-25T18:00:00Z")
		}
		t, err := tandem.ParseTime(f.in, now)
		if err != nil {
			return tandem.FieldErrorf(f.name, "%v", err)
		}
		if err := saneTime(f.name, t); err != nil {
			return err
		}
		*f.out = t
	}
	created, err := svc.Store.Add(r.Context(), o, now)
	if err != nil {
		return err
	}
	s.Log.Info("on-call override added", "schedule", created.Schedule, "person", created.Person, "id", created.ID, "author", created.Author)
	writeJSON(w, http.StatusCreated, created)
	return nil
}

func (s *Server) deleteOverride(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.oncallService()
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	o, err := svc.Store.Delete(r.Context(), r.PathValue("name"), id)
	if err != nil {
		return err
	}
	s.Log.Info("on-call override removed", "schedule", o.Schedule, "id", o.ID, "by", actor(r))
	writeJSON(w, http.StatusOK, o)
	return nil
}

// OncallNow is the answer of GET /api/v1/oncall.
type OncallNow struct {
	At        time.Time        `json:"at"`
	Schedules []ScheduleOnCall `json:"schedules"`
	Policies  []PolicyOnCall   `json:"policies"`
}

// ScheduleOnCall is one schedule in OncallNow.
type ScheduleOnCall struct {
	oncall.Current
	Layers []oncall.LayerResult `json:"layers"`
}

// PolicyOnCall is one escalation policy in OncallNow: who each rule would
// page at that instant, and the services that use it.
type PolicyOnCall struct {
	Name     string              `json:"name"`
	Services []string            `json:"services"`
	NumLoops int                 `json:"num_loops"`
	Rules    []oncall.RuleOnCall `json:"rules"`
}

func (s *Server) oncallNow(w http.ResponseWriter, r *http.Request) error {
	now := s.Clock.Now()
	at, err := queryTime(r, "at", now)
	if err != nil {
		return err
	}
	if at.IsZero() {
		at = now
	}
	if err := saneTime("at", at); err != nil {
		return err
	}
	d, err := s.directory(r, at, at.Add(oncall.LookAhead))
	if err != nil {
		return err
	}
	out := OncallNow{At: at, Schedules: []ScheduleOnCall{}, Policies: []PolicyOnCall{}}
	for _, sc := range d.Schedules() {
		out.Schedules = append(out.Schedules, ScheduleOnCall{Current: oncall.CurrentOf(sc, at), Layers: sc.Resolve(at).Layers})
	}
	users := map[string][]string{}
	for _, svc := range s.catalog().Services {
		if svc.EscalationPolicy != "" {
			users[svc.EscalationPolicy] = append(users[svc.EscalationPolicy], svc.Name)
		}
	}
	for _, p := range d.Policies() {
		svcs := users[p.Name]
		sort.Strings(svcs)
		if svcs == nil {
			svcs = []string{}
		}
		out.Policies = append(out.Policies, PolicyOnCall{Name: p.Name, Services: svcs, NumLoops: p.NumLoops, Rules: d.PolicyOnCall(p, at)})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.oncallService()
	if err != nil {
		return err
	}
	cfg, _ := svc.Source()
	out := cfg.Policies
	if out == nil {
		out = []oncall.Policy{}
	}
	writeJSON(w, http.StatusOK, newList(out))
	return nil
}
