package api

import (
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/dora"
	"github.com/tandemhq/tandem/internal/notify"
)

// ChangeDeps is what the change events, GitHub deploy webhooks and DORA
// metrics endpoints need. With a nil Store the endpoints are not served.
type ChangeDeps struct {
	Store *change.Store
	DORA  *dora.Loader
	// Getenv reads the webhook secret's variable (default os.Getenv).
	Getenv func(string) string
}

// changeRoutes registers the change events, GitHub deploy webhooks and DORA
// metrics endpoints.
func (s *Server) changeRoutes(mux *http.ServeMux) {
	if s.Change.Store == nil {
		return
	}
	s.handle(mux, "POST /api/v1/changes", auth.ScopeWrite, s.recordChanges)
	s.handle(mux, "GET /api/v1/changes", auth.ScopeRead, s.listChanges)
	s.handle(mux, "GET /api/v1/changes/{id}", auth.ScopeRead, s.getChange)
	s.handle(mux, "PATCH /api/v1/changes/{id}", auth.ScopeWrite, s.patchChange)
	s.handle(mux, "POST /api/v1/commits", auth.ScopeWrite, s.recordCommits)
	s.handle(mux, "POST /api/v1/webhooks/github", "", s.githubWebhook)
	if s.Change.DORA != nil {
		s.handle(mux, "GET /api/v1/dora", auth.ScopeRead, s.doraReport)
		s.handle(mux, "GET /api/v1/dora/services", auth.ScopeRead, s.doraServices)
	}
}

// changesBody is one event, or a batch under "events".
type changesBody struct {
	change.Event
	Events []change.Event `json:"events"`
}

// batchAnswer answers a batch: the records in order, and how many were new.
type batchAnswer struct {
	Items   []change.Event `json:"items"`
	Count   int            `json:"count"`
	Created int            `json:"created"`
}

func (s *Server) recordChanges(w http.ResponseWriter, r *http.Request) error {
	var body changesBody
	if err := decode(r, &body); err != nil {
		return err
	}
	batch := body.Events != nil
	events := body.Events
	if !batch {
		events = []change.Event{body.Event}
	} else if body.Service != "" || body.Kind != "" {
		return tandem.FieldErrorf("events", "send one event or a batch under \"events\", not both")
	}
	if batch && len(events) == 0 {
		return tandem.FieldErrorf("events", "empty batch")
	}
	if len(events) > 10000 {
		return tandem.FieldErrorf("events", "more than 10000 events in one batch")
	}
	tok, _ := TokenFrom(r.Context())
	for i := range events {
		prefix := ""
		if batch {
			prefix = "events[" + strconv.Itoa(i) + "]."
		}
		if strings.TrimSpace(events[i].Service) == "" {
			return tandem.FieldErrorf(prefix+"service", "required")
		}
		if err := s.checkService(prefix+"service", events[i].Service); err != nil {
			return err
		}
		if events[i].Actor == "" && tok.Name != "" {
			events[i].Actor = "token:" + tok.Name
		}
	}
	out, err := s.Change.Store.Apply(r.Context(), events, s.Clock.Now())
	if err != nil {
		if batch {
			return err
		}
		return unprefix(err)
	}
	created := 0
	for _, e := range out {
		if !e.Existing {
			created++
		}
	}
	if !batch {
		status := http.StatusCreated
		if out[0].Existing {
			status = http.StatusOK
		}
		writeJSON(w, status, out[0])
		return nil
	}
	status := http.StatusCreated
	if created == 0 {
		status = http.StatusOK
	}
	writeJSON(w, status, batchAnswer{Items: out, Count: len(out), Created: created})
	return nil
}

// unprefix drops "events[0]." from the field of a single event's error.
func unprefix(err error) error {
	if e, ok := err.(*tandem.Error); ok && strings.HasPrefix(e.Field, "events[0].") {
		c := *e
		c.Field = strings.TrimPrefix(c.Field, "events[0].")
		return &c
	}
	return err
}

func (s *Server) listChanges(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	now := s.Clock.Now()
	f := change.Filter{Environment: q.Get("environment")}
	for _, v := range q["service"] {
		f.Services = append(f.Services, splitList(v)...)
	}
	for _, v := range q["kind"] {
		f.Kinds = append(f.Kinds, splitList(v)...)
	}
	for _, v := range q["status"] {
		f.Statuses = append(f.Statuses, splitList(v)...)
	}
	for _, k := range f.Kinds {
		if !contains(change.Kinds, k) {
			return tandem.FieldErrorf("kind", "unknown kind %q: want one of %s", k, strings.Join(change.Kinds, ", "))
		}
	}
	for _, st := range f.Statuses {
		if !contains(change.Statuses, st) {
			return tandem.FieldErrorf("status", "unknown status %q: want one of %s", st, strings.Join(change.Statuses, ", "))
		}
	}
	for _, svc := range f.Services {
		if err := s.checkService("service", svc); err != nil {
			return err
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100000 {
			return tandem.FieldErrorf("limit", "want a number from 1 to 100000, got %q", v)
		}
		f.Limit = n
	}
	var err error
	if q.Get("around") != "" {
		around, err := queryTime(r, "around", now)
		if err != nil {
			return err
		}
		window := 2 * time.Hour
		if v := q.Get("window"); v != "" {
			window, err = tandem.ParseDuration(v)
			if err != nil || window <= 0 || window > 90*24*time.Hour {
				return tandem.FieldErrorf("window", "want a duration up to 90d such as 2h, got %q", v)
			}
		}
		evs, err := s.Change.Store.Around(r.Context(), f.Services, around, window, window)
		if err != nil {
			return err
		}
		evs = filterEvents(evs, f)
		writeJSON(w, http.StatusOK, newList(evs))
		return nil
	}
	if f.Since, err = queryTime(r, "since", now); err != nil {
		return err
	}
	if f.Until, err = queryTime(r, "until", now); err != nil {
		return err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return tandem.FieldErrorf("until", "must be after since")
	}
	evs, err := s.Change.Store.List(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(evs))
	return nil
}

func filterEvents(evs []change.Event, f change.Filter) []change.Event {
	out := evs[:0]
	for _, e := range evs {
		if len(f.Kinds) > 0 && !contains(f.Kinds, e.Kind) || len(f.Statuses) > 0 && !contains(f.Statuses, e.Status) ||
			f.Environment != "" && e.Environment != f.Environment {
			continue
		}
		out = append(out, e)
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (s *Server) getChange(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	e, err := s.Change.Store.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// statusPatch is the body of PATCH /api/v1/changes/{id}.
type statusPatch struct {
	Status        string    `json:"status"`
	FailureReason string    `json:"failure_reason"`
	FinishedAt    time.Time `json:"finished_at"`
}

func (s *Server) patchChange(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var p statusPatch
	if err := decode(r, &p); err != nil {
		return err
	}
	if p.Status == "" {
		return tandem.FieldErrorf("status", "required")
	}
	now := s.Clock.Now()
	finished := p.FinishedAt
	if finished.IsZero() {
		finished = now
	}
	e, err := s.Change.Store.Finish(r.Context(), id, p.Status, p.FailureReason, finished, now)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// commitsBody is the body of POST /api/v1/commits.
type commitsBody struct {
	Commits []change.Commit `json:"commits"`
}

func (s *Server) recordCommits(w http.ResponseWriter, r *http.Request) error {
	var body commitsBody
	if err := decode(r, &body); err != nil {
		return err
	}
	if len(body.Commits) == 0 {
		return tandem.FieldErrorf("commits", "required: at least one commit")
	}
	if len(body.Commits) > 20000 {
		return tandem.FieldErrorf("commits", "more than 20000 commits in one batch")
	}
	checked := map[string]bool{}
	for i, c := range body.Commits {
		if checked[c.Service] {
			continue
		}
		field := "commits[" + strconv.Itoa(i) + "].service"
		if strings.TrimSpace(c.Service) == "" {
			return tandem.FieldErrorf(field, "required")
		}
		if err := s.checkService(field, c.Service); err != nil {
			return err
		}
		checked[c.Service] = true
	}
	n, err := s.Change.Store.RecordCommits(r.Context(), body.Commits, s.Clock.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"count": len(body.Commits), "created": n})
	return nil
}

// githubAnswer answers a webhook delivery.
type githubAnswer struct {
	Event    string         `json:"event"`
	Delivery string         `json:"delivery,omitempty"`
	Ignored  string         `json:"ignored,omitempty"`
	Changes  []change.Event `json:"changes"`
	Commits  int            `json:"commits"`
}

func (s *Server) githubWebhook(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return decodeError(err)
	}
	cfg := s.Config.Get()
	gh := cfg.Change.GitHub
	getenv := s.Change.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	secret := gh.WebhookSecret(getenv)
	if secret == "" {
		return tandem.Errorf(tandem.EUnauthorized, "no GitHub webhook secret is configured (github.webhook_secret_env); every delivery is refused")
	}
	if !slices.ContainsFunc(notify.Secrets(secret), func(sec string) bool {
		return change.VerifySignature([]byte(sec), body, r.Header.Get(change.SignatureHeader))
	}) {
		return tandem.Errorf(tandem.EUnauthorized, "missing or wrong %s signature", change.SignatureHeader)
	}
	event := r.Header.Get("X-GitHub-Event")
	res, err := change.ParseGitHub(event, body, change.GitHubOptions{
		Service:             s.repoService(cfg.Catalog, gh.Repositories),
		DeployWorkflows:     gh.DeployWorkflows,
		WorkflowEnvironment: gh.WorkflowEnvironment,
		Environments:        gh.Environments,
	})
	if err != nil {
		return err
	}
	ans := githubAnswer{Event: event, Delivery: r.Header.Get("X-GitHub-Delivery"), Ignored: res.Ignored, Changes: []change.Event{}}
	now := s.Clock.Now()
	if len(res.Commits) > 0 {
		if _, err := s.Change.Store.RecordCommits(r.Context(), res.Commits, now); err != nil {
			return err
		}
		ans.Commits = len(res.Commits)
	}
	if len(res.Events) > 0 {
		out, err := s.Change.Store.Apply(r.Context(), res.Events, now)
		if err != nil {
			return err
		}
		ans.Changes = out
	}
	writeJSON(w, http.StatusOK, ans)
	return nil
}

// repoService maps a GitHub repository to a service: the config's
// github.repositories first, then a service whose repository URL is the
// repository's, then a service named like the repository.
func (s *Server) repoService(cat *catalog.Catalog, repos map[string]string) func(full, html string) (string, bool) {
	return func(full, html string) (string, bool) {
		if svc, ok := repos[full]; ok {
			return svc, true
		}
		norm := func(u string) string {
			return strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(u), "/"), ".git"))
		}
		for _, svc := range cat.Services {
			if svc.Repository == "" {
				continue
			}
			r := norm(svc.Repository)
			if (html != "" && r == norm(html)) || strings.HasSuffix(r, "/"+strings.ToLower(full)) {
				return svc.Name, true
			}
		}
		name := full[strings.LastIndexByte(full, '/')+1:]
		if _, ok := cat.Service(name); ok {
			return name, true
		}
		return "", false
	}
}

// doraQuery reads the query of the DORA endpoints.
func (s *Server) doraQuery(r *http.Request) (dora.Query, error) {
	q := r.URL.Query()
	now := s.Clock.Now()
	dq := dora.Query{Team: q.Get("team"), Environment: q.Get("environment"), By: q.Get("by")}
	for _, v := range q["service"] {
		dq.Services = append(dq.Services, splitList(v)...)
	}
	for _, svc := range dq.Services {
		if err := s.checkService("service", svc); err != nil {
			return dq, err
		}
	}
	if dq.Team != "" {
		if len(dq.Services) > 0 {
			return dq, tandem.FieldErrorf("team", "give service or team, not both")
		}
		if _, ok := s.catalog().Team(dq.Team); !ok {
			msg := "unknown team " + dq.Team
			var names []string
			for _, t := range s.catalog().Teams {
				names = append(names, t.Name)
			}
			if c := catalog.Closest(dq.Team, names, 3); len(c) > 0 {
				msg += "; close names: " + strings.Join(c, ", ")
			}
			return dq, &tandem.Error{Code: tandem.EUnprocessable, Field: "team", Message: msg}
		}
	}
	switch dq.By {
	case "", "day", "week", "month":
	default:
		return dq, tandem.FieldErrorf("by", "want day, week or month, got %q", dq.By)
	}
	var err error
	if dq.To, err = queryTime(r, "to", now); err != nil {
		return dq, err
	}
	if dq.To.IsZero() {
		dq.To = now
	}
	if dq.From, err = queryTime(r, "from", now); err != nil {
		return dq, err
	}
	if q.Get("since") != "" {
		if q.Get("from") != "" {
			return dq, tandem.FieldErrorf("since", "give since or from, not both")
		}
		if dq.From, err = queryTime(r, "since", now); err != nil {
			return dq, err
		}
	}
	if dq.From.IsZero() {
		dq.From = dq.To.Add(-90 * 24 * time.Hour)
	}
	if !dq.To.After(dq.From) {
		return dq, tandem.FieldErrorf("to", "must be after from")
	}
	if dq.To.Sub(dq.From) > 5*366*24*time.Hour {
		return dq, tandem.FieldErrorf("from", "a report spans at most 5 years")
	}
	if dq.By == "day" && dq.To.Sub(dq.From) > 366*24*time.Hour {
		return dq, tandem.FieldErrorf("by", "daily periods span at most a year")
	}
	return dq, nil
}

func (s *Server) doraLoader() *dora.Loader {
	l := *s.Change.DORA
	c := s.Config.Get().Change.DORA
	l.Options = dora.Options{IncidentWindow: c.IncidentWindow, ReworkWindow: c.ReworkWindow}
	return &l
}

func (s *Server) doraReport(w http.ResponseWriter, r *http.Request) error {
	dq, err := s.doraQuery(r)
	if err != nil {
		return err
	}
	rep, err := s.doraLoader().Report(r.Context(), s.catalog(), dq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *Server) doraServices(w http.ResponseWriter, r *http.Request) error {
	dq, err := s.doraQuery(r)
	if err != nil {
		return err
	}
	l := s.doraLoader()
	in, err := l.Load(r.Context(), s.catalog(), dq)
	if err != nil {
		return err
	}
	reps := dora.Analyze(in, l.Options).ByService(dq.From, dq.To)
	env := dq.Environment
	if env == "" {
		env = catalog.DefaultEnvironment
	}
	for i := range reps {
		reps[i].Environment = env
	}
	writeJSON(w, http.StatusOK, newList(reps))
	return nil
}
