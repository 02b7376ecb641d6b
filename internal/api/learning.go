package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/okr"
	"github.com/tandemhq/tandem/internal/postmortem"
	"github.com/tandemhq/tandem/internal/toil"
)

// LearningDeps is what the postmortems, action items, toil and reliability
// OKRs endpoints need.
type LearningDeps struct {
	Postmortems *postmortem.Service
	Toil        *toil.Store
	// OKRMetrics measures key results by kind (kinds missing report
	// "unavailable").
	OKRMetrics okr.Metrics
	// OncallHours returns hours on call per person in [from, to), for the
	// toil report's share of on-call time (nil: not known).
	OncallHours func(ctx context.Context, from, to time.Time) (map[string]float64, error)
}

// learningRoutes registers the postmortems, action items, toil and
// reliability OKRs endpoints.
func (s *Server) learningRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET /api/v1/postmortems", auth.ScopeRead, s.listPostmortems)
	s.handle(mux, "POST /api/v1/postmortems", auth.ScopeWrite, s.createPostmortem)
	s.handle(mux, "GET /api/v1/postmortems/{id}", auth.ScopeRead, s.getPostmortem)
	s.handle(mux, "PUT /api/v1/postmortems/{id}", auth.ScopeWrite, s.putPostmortem)
	s.handle(mux, "GET /api/v1/actions", auth.ScopeRead, s.listActions)
	s.handle(mux, "POST /api/v1/actions", auth.ScopeWrite, s.createAction)
	s.handle(mux, "PATCH /api/v1/actions/{id}", auth.ScopeWrite, s.patchAction)
	s.handle(mux, "GET /api/v1/toil", auth.ScopeRead, s.listToil)
	s.handle(mux, "POST /api/v1/toil", auth.ScopeWrite, s.logToil)
	s.handle(mux, "POST /api/v1/toil/import", auth.ScopeWrite, s.importToil)
	s.handle(mux, "GET /api/v1/toil/report", auth.ScopeRead, s.toilReport)
	s.handle(mux, "GET /api/v1/toil/goals", auth.ScopeRead, s.toilGoals)
	s.handle(mux, "GET /api/v1/okrs", auth.ScopeRead, s.okrStatus)
}

func (s *Server) postmortems() (*postmortem.Service, error) {
	if s.Learning.Postmortems == nil {
		return nil, tandem.Errorf(tandem.EUnavailable, "postmortems are not enabled on this server")
	}
	return s.Learning.Postmortems, nil
}

func (s *Server) toilStore() (*toil.Store, error) {
	if s.Learning.Toil == nil {
		return nil, tandem.Errorf(tandem.EUnavailable, "toil tracking is not enabled on this server")
	}
	return s.Learning.Toil, nil
}

func learningBool(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, tandem.FieldErrorf(name, "want true or false, got %q", v)
	}
	return b, nil
}

func (s *Server) listPostmortems(w http.ResponseWriter, r *http.Request) error {
	pm, err := s.postmortems()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := postmortem.Filter{Team: q.Get("team")}
	if st := q.Get("status"); st != "" {
		if f.Status, err = postmortem.ParseStatus(st); err != nil {
			return err
		}
	}
	if l := q.Get("limit"); l != "" {
		if f.Limit, err = strconv.Atoi(l); err != nil || f.Limit <= 0 {
			return tandem.FieldErrorf("limit", "want a positive number, got %q", l)
		}
	}
	list, err := pm.Store.List(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(list))
	return nil
}

func (s *Server) createPostmortem(w http.ResponseWriter, r *http.Request) error {
	pm, err := s.postmortems()
	if err != nil {
		return err
	}
	var in struct {
		IncidentID int64 `json:"incident_id"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.IncidentID <= 0 {
		return tandem.FieldErrorf("incident_id", "required: the incident to write the postmortem of")
	}
	p, created, err := pm.Generate(r.Context(), in.IncidentID)
	if tandem.ErrorCode(err) == tandem.ENotFound {
		return &tandem.Error{Code: tandem.EUnprocessable, Field: "incident_id", Message: tandem.ErrorMessage(err)}
	}
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, p)
	return nil
}

func (s *Server) getPostmortem(w http.ResponseWriter, r *http.Request) error {
	pm, err := s.postmortems()
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := pm.Store.Get(r.Context(), id, s.Clock.Now())
	if err != nil {
		return err
	}
	switch f := r.URL.Query().Get("format"); f {
	case "", "json":
		writeJSON(w, http.StatusOK, p)
	case "markdown", "md":
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, p.Markdown)
	default:
		return tandem.FieldErrorf("format", "want json or markdown, got %q", f)
	}
	return nil
}

// putPostmortem takes either JSON {"markdown", "status"} or the Markdown
// itself with Content-Type text/markdown (and ?status=).
func (s *Server) putPostmortem(w http.ResponseWriter, r *http.Request) error {
	pm, err := s.postmortems()
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var u postmortem.Update
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/markdown") || strings.HasPrefix(ct, "text/plain") {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return decodeError(err)
		}
		md := string(b)
		u.Markdown = &md
		if st := r.URL.Query().Get("status"); st != "" {
			u.Status = &st
		}
	} else if err := decode(r, &u); err != nil {
		return err
	}
	p, err := pm.Save(r.Context(), id, u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) listActions(w http.ResponseWriter, r *http.Request) error {
	pm, err := s.postmortems()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := postmortem.ItemFilter{Owner: q.Get("owner"), Status: q.Get("status")}
	if f.Status != "" && f.Status != postmortem.ItemOpen && f.Status != postmortem.ItemDone {
		return tandem.FieldErrorf("status", "want open or done, got %q", f.Status)
	}
	if f.Overdue, err = learningBool(r, "overdue"); err != nil {
		return err
	}
	if v := q.Get("postmortem_id"); v != "" {
		if f.PostmortemID, err = strconv.ParseInt(v, 10, 64); err != nil {
			return tandem.FieldErrorf("postmortem_id", "want a number, got %q", v)
		}
	}
	items, err := pm.Store.ListItems(r.Context(), f, s.Clock.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(items))
	return nil
}

func (s *Server) checkLearningPerson(field, name string) error {
	if name == "" {
		return nil
	}
	c := s.catalog()
	if _, ok := c.Person(strings.TrimPrefix(name, "@")); ok {
		return nil
	}
	var names []string
	for _, p := range c.People {
		names = append(names, p.Name)
	}
	msg := "unknown person " + name
	if cl := catalog.Closest(name, names, 3); len(cl) > 0 {
		msg += "; close names: " + strings.Join(cl, ", ")
	}
	return &tandem.Error{Code: tandem.EUnprocessable, Field: field, Message: msg}
}

func (s *Server) checkLearningTeam(field, name string) error {
	if name == "" {
		return nil
	}
	if _, ok := s.catalog().Team(name); ok {
		return nil
	}
	var names []string
	for _, t := range s.catalog().Teams {
		names = append(names, t.Name)
	}
	msg := "unknown team " + name
	if cl := catalog.Closest(name, names, 3); len(cl) > 0 {
		msg += "; close names: " + strings.Join(cl, ", ")
	}
	return &tandem.Error{Code: tandem.EUnprocessable, Field: field, Message: msg}
}

func (s *Server) createAction(w http.ResponseWriter, r *http.Request) error {
	pm, err := s.postmortems()
	if err != nil {
		return err
	}
	var in postmortem.NewItem
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.checkLearningPerson("owner", in.Owner); err != nil {
		return err
	}
	a, err := pm.Store.AddItem(r.Context(), in, s.Clock.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a)
	return nil
}

func (s *Server) patchAction(w http.ResponseWriter, r *http.Request) error {
	pm, err := s.postmortems()
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var u postmortem.ItemUpdate
	if err := decode(r, &u); err != nil {
		return err
	}
	if u.Owner != nil {
		if err := s.checkLearningPerson("owner", *u.Owner); err != nil {
			return err
		}
	}
	a, err := pm.Store.UpdateItem(r.Context(), id, u, s.Clock.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// toilInput is one entry as a client sends it.
type toilInput struct {
	At         *time.Time `json:"at,omitempty"`
	Minutes    int        `json:"minutes"`
	Category   string     `json:"category"`
	Service    string     `json:"service,omitempty"`
	Team       string     `json:"team,omitempty"`
	Person     string     `json:"person,omitempty"`
	Note       string     `json:"note,omitempty"`
	Source     string     `json:"source,omitempty"`
	ExternalID string     `json:"external_id,omitempty"`
}

func (s *Server) toilEntry(in toilInput, prefix string) (toil.Entry, error) {
	e := toil.Entry{Minutes: in.Minutes, Category: in.Category, Service: in.Service, Team: in.Team,
		Person: strings.TrimPrefix(in.Person, "@"), Note: in.Note, Source: in.Source, ExternalID: in.ExternalID}
	if in.At != nil {
		e.At = in.At.UTC()
	} else {
		e.At = s.Clock.Now().UTC()
	}
	if e.At.After(s.Clock.Now().Add(5 * time.Minute)) {
		return e, tandem.FieldErrorf(prefix+"at", "is in the future")
	}
	if e.Service != "" {
		if err := s.checkService(prefix+"service", e.Service); err != nil {
			return e, err
		}
	}
	if err := s.checkLearningTeam(prefix+"team", e.Team); err != nil {
		return e, err
	}
	if err := s.checkLearningPerson(prefix+"person", e.Person); err != nil {
		return e, err
	}
	toil.FillTeam(s.catalog(), &e)
	if err := e.Validate(); err != nil {
		var te *tandem.Error
		if errors.As(err, &te) && prefix != "" {
			return e, &tandem.Error{Code: te.Code, Field: prefix + te.Field, Message: te.Message}
		}
		return e, err
	}
	return e, nil
}

func (s *Server) logToil(w http.ResponseWriter, r *http.Request) error {
	st, err := s.toilStore()
	if err != nil {
		return err
	}
	var in toilInput
	if err := decode(r, &in); err != nil {
		return err
	}
	e, err := s.toilEntry(in, "")
	if err != nil {
		return err
	}
	out, err := st.Log(r.Context(), e, s.Clock.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) listToil(w http.ResponseWriter, r *http.Request) error {
	st, err := s.toilStore()
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	q := r.URL.Query()
	f := toil.Filter{Category: q.Get("category"), Service: q.Get("service"), Team: q.Get("team"), Person: q.Get("person"), Limit: 1000}
	if f.Since, err = queryTime(r, "since", now); err != nil {
		return err
	}
	if f.Until, err = queryTime(r, "until", now); err != nil {
		return err
	}
	if l := q.Get("limit"); l != "" {
		if f.Limit, err = strconv.Atoi(l); err != nil || f.Limit <= 0 || f.Limit > 100000 {
			return tandem.FieldErrorf("limit", "want a number from 1 to 100000, got %q", l)
		}
	}
	list, err := st.List(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(list))
	return nil
}

// importToil takes a CSV export (Content-Type text/csv; ?format=jira|linear
// |tandem, ?skip_bad=true, ?label=, ?minutes_per_point=) or JSON
// {"entries": [...], "skip_bad": bool} (GitHub issues the CLI fetched).
// With bad rows and no skip_bad nothing is imported: 422 listing them all.
func (s *Server) importToil(w http.ResponseWriter, r *http.Request) error {
	st, err := s.toilStore()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	skipBad, err := learningBool(r, "skip_bad")
	if err != nil {
		return err
	}
	res := toil.ImportReport{Bad: []toil.RowError{}}
	var entries []toil.Entry
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/csv") {
		opts := toil.ImportOptions{Format: q.Get("format"), Label: q.Get("label"), Catalog: s.catalog()}
		if v := q.Get("minutes_per_point"); v != "" {
			if opts.MinutesPerPoint, err = strconv.Atoi(v); err != nil || opts.MinutesPerPoint <= 0 {
				return tandem.FieldErrorf("minutes_per_point", "want a positive number, got %q", v)
			}
		}
		parsed, err := toil.ParseCSV(r.Body, opts)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return decodeError(err)
			}
			return err
		}
		res.Format, res.Skipped, res.Bad, entries = parsed.Format, parsed.Skipped, parsed.Bad, parsed.Entries
	} else {
		var in struct {
			Entries []toilInput     `json:"entries"`
			SkipBad bool            `json:"skip_bad"`
			Bad     []toil.RowError `json:"bad,omitempty"`
			Skipped int             `json:"skipped,omitempty"`
			Format  string          `json:"format,omitempty"`
		}
		if err := decode(r, &in); err != nil {
			return err
		}
		skipBad = skipBad || in.SkipBad
		res.Format, res.Skipped = in.Format, in.Skipped
		res.Bad = append(res.Bad, in.Bad...)
		for i, ti := range in.Entries {
			e, err := s.toilEntry(ti, "")
			if err != nil {
				var te *tandem.Error
				if !errors.As(err, &te) {
					return err
				}
				res.Bad = append(res.Bad, toil.RowError{Row: i + 1, Ref: ti.ExternalID, Field: te.Field, Message: te.Message})
				continue
			}
			entries = append(entries, e)
		}
	}
	if len(res.Bad) > 0 && !skipBad {
		res.Error = &tandem.Error{Code: tandem.EUnprocessable,
			Message: strconv.Itoa(len(res.Bad)) + " bad rows; nothing imported (fix them, or import the rest with skip_bad=true)"}
		writeJSON(w, http.StatusUnprocessableEntity, res)
		return nil
	}
	if len(entries) > 0 {
		out, err := st.Import(r.Context(), entries, s.Clock.Now())
		if err != nil {
			return err
		}
		res.Created, res.Existing = out.Created, out.Existing
	}
	res.Imported = true
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) toilReport(w http.ResponseWriter, r *http.Request) error {
	st, err := s.toilStore()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	now := s.Clock.Now()
	cur, prev, err := toil.ResolvePeriod(q.Get("month"), q.Get("since"), now)
	if err != nil {
		return err
	}
	by := q.Get("by")
	if err := toil.CheckBy(by); err != nil {
		return err
	}
	entries, err := st.List(r.Context(), toil.Filter{Since: prev.From, Until: cur.To, Team: q.Get("team"), Service: q.Get("service")})
	if err != nil {
		return err
	}
	oncall := map[string]float64{}
	if s.Learning.OncallHours != nil {
		perPerson, err := s.Learning.OncallHours(r.Context(), cur.From, cur.To)
		if err != nil {
			s.Log.Warn("toil report: on-call hours unavailable", "err", err)
		} else {
			c := s.catalog()
			team := q.Get("team")
			for p, h := range perPerson {
				pt := ""
				if person, ok := c.Person(p); ok {
					pt = person.Team
				}
				if team != "" && pt != team {
					continue
				}
				switch by {
				case toil.ByPerson:
					oncall[p] += h
				case toil.ByTeam:
					if pt != "" {
						oncall[pt] += h
					}
				}
				oncall["total"] += h
			}
		}
	}
	writeJSON(w, http.StatusOK, toil.BuildReport(entries, cur, prev, by, oncall))
	return nil
}

func (s *Server) toilGoals(w http.ResponseWriter, r *http.Request) error {
	st, err := s.toilStore()
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	goals := s.Config.Get().Learning.ToilGoals
	out := []toil.GoalStatus{}
	for _, g := range goals {
		w := g.Window
		if w <= 0 {
			w = 30 * 24 * time.Hour
		}
		since := g.Start.Add(-w)
		if t := now.Add(-w); t.Before(since) {
			since = t
		}
		entries, err := st.List(r.Context(), toil.Filter{Since: since, Until: now, Category: g.Category, Service: g.Service, Team: g.Team, Person: g.Person})
		if err != nil {
			return err
		}
		out = append(out, toil.EvaluateGoal(g, entries, now))
	}
	writeJSON(w, http.StatusOK, newList(out))
	return nil
}

func (s *Server) okrStatus(w http.ResponseWriter, r *http.Request) error {
	now := s.Clock.Now()
	q := r.URL.Query()
	quarter := okr.QuarterOf(now)
	if v := q.Get("quarter"); v != "" {
		qq, err := okr.ParseQuarter(v)
		if err != nil {
			return tandem.FieldErrorf("quarter", "%v", err)
		}
		quarter = qq
	}
	team := q.Get("team")
	if err := s.checkLearningTeam("team", team); err != nil {
		return err
	}
	cfg := s.Config.Get()
	c := cfg.Catalog
	services := func(team string) []string {
		if team == "" {
			return c.ServiceNames()
		}
		return c.ServicesOfTeam(team)
	}
	out, err := okr.Evaluate(r.Context(), cfg.Learning.Objectives, quarter, team, s.Learning.OKRMetrics, services, now)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"quarter": quarter, "team": team, "items": out, "count": len(out)})
	return nil
}
