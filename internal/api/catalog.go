package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/config"
)

// list is the envelope of every list answer.
type list[T any] struct {
	Items []T `json:"items"`
	Count int `json:"count"`
}

func newList[T any](items []T) list[T] {
	if items == nil {
		items = []T{}
	}
	return list[T]{Items: items, Count: len(items)}
}

func (s *Server) catalog() *catalog.Catalog { return s.Config.Get().Catalog }

// encodedList is the service list encoded once for a given config: each
// service's JSON, and the whole unfiltered answer.
type encodedList struct {
	cfg   *config.Config
	items [][]byte
	all   []byte
}

// encodedServices returns the encoding of cfg's services, made on the first
// request after a (re)load.
func (s *Server) encodedServices(cfg *config.Config) (*encodedList, error) {
	if e := s.services.Load(); e != nil && e.cfg == cfg {
		return e, nil
	}
	e := &encodedList{cfg: cfg, items: make([][]byte, len(cfg.Catalog.Services))}
	for i, svc := range cfg.Catalog.Services {
		b, err := json.Marshal(svc)
		if err != nil {
			return nil, err
		}
		e.items[i] = b
	}
	var buf bytes.Buffer
	buf.Grow(joinList(nil, e.items, nil))
	joinList(&buf, e.items, nil)
	e.all = buf.Bytes()
	s.services.Store(e)
	return e, nil
}

// joinList writes the list envelope around the chosen items (nil: all) to
// w, and returns the byte count when w is nil.
func joinList(w io.Writer, items [][]byte, keep []int) int {
	n := len(items)
	if keep != nil {
		n = len(keep)
	}
	count := strconv.Itoa(n)
	size := len(`{"items":[],"count":}`) + len(count) + 1
	for j := 0; j < n; j++ {
		i := j
		if keep != nil {
			i = keep[j]
		}
		if j > 0 {
			size++
			if w != nil {
				_, _ = w.Write(comma)
			}
		}
		size += len(items[i])
		if w != nil {
			if j == 0 {
				_, _ = io.WriteString(w, `{"items":[`)
			}
			_, _ = w.Write(items[i])
		}
	}
	if w != nil {
		if n == 0 {
			_, _ = io.WriteString(w, `{"items":[`)
		}
		_, _ = io.WriteString(w, `],"count":`+count+"}\n")
	}
	return size
}

var comma = []byte{','}

// listServices answers the catalog's services, optionally filtered by team
// and environment. The catalog only changes on reload, so each service is
// encoded once per config and answers are put together from those.
func (s *Server) listServices(w http.ResponseWriter, r *http.Request) error {
	cfg := s.Config.Get()
	e, err := s.encodedServices(cfg)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	team, env := q.Get("team"), q.Get("environment")
	w.Header().Set("Content-Type", "application/json")
	if team == "" && env == "" {
		w.Header().Set("Content-Length", strconv.Itoa(len(e.all)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(e.all)
		return nil
	}
	keep := []int{}
	for i, svc := range cfg.Catalog.Services {
		if team != "" && svc.Team != team {
			continue
		}
		if env != "" && !contains(svc.Environments, env) {
			continue
		}
		keep = append(keep, i)
	}
	w.Header().Set("Content-Length", strconv.Itoa(joinList(nil, e.items, keep)))
	w.WriteHeader(http.StatusOK)
	joinList(w, e.items, keep)
	return nil
}

func (s *Server) getService(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	svc, ok := s.catalog().Service(name)
	if !ok {
		return s.unknownService(name)
	}
	writeJSON(w, http.StatusOK, svc)
	return nil
}

// unknownService is the 404 for a service path parameter, naming close
// matches.
func (s *Server) unknownService(name string) error {
	return s.unknown("service", name, s.catalog().ServiceNames())
}

// checkService returns a 422 naming close matches when a request body names
// a service that is not in the catalog.
func (s *Server) checkService(field, name string) error {
	if _, ok := s.catalog().Service(name); ok {
		return nil
	}
	msg := "unknown service " + name
	if c := catalog.Closest(name, s.catalog().ServiceNames(), 3); len(c) > 0 {
		msg += "; close names: " + strings.Join(c, ", ")
	}
	return &tandem.Error{Code: tandem.EUnprocessable, Field: field, Message: msg}
}

func (s *Server) listTeams(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, newList(s.catalog().Teams))
	return nil
}

func (s *Server) getTeam(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	t, ok := s.catalog().Team(name)
	if !ok {
		return s.unknown("team", name, teamNames(s.catalog()))
	}
	// The team with its services, so one call answers "what does it own".
	writeJSON(w, http.StatusOK, struct {
		catalog.Team
		Services []string `json:"services"`
	}{t, nonNil(s.catalog().ServicesOfTeam(name))})
	return nil
}

func (s *Server) getPerson(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if strings.HasSuffix(name, ".ics") {
		return s.personCalendar(w, r) // the on-call calendar feed (oncall.go)
	}
	p, ok := s.catalog().Person(name)
	if !ok {
		names := make([]string, len(s.catalog().People))
		for i, p := range s.catalog().People {
			names[i] = p.Name
		}
		return s.unknown("person", name, names)
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// unknown is the 404 for a catalog name in the path, with close names.
func (s *Server) unknown(kind, name string, names []string) error {
	msg := "no " + kind + " named " + name
	if c := catalog.Closest(name, names, 3); len(c) > 0 {
		msg += "; did you mean " + strings.Join(c, ", ") + "?"
	}
	return tandem.Errorf(tandem.ENotFound, "%s", msg)
}

func teamNames(c *catalog.Catalog) []string {
	out := make([]string, len(c.Teams))
	for i, t := range c.Teams {
		out[i] = t.Name
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) listPeople(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, newList(s.catalog().People))
	return nil
}

func (s *Server) listTools(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, newList(catalog.Ownership(s.catalog())))
	return nil
}

func (s *Server) getTool(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	for _, row := range catalog.Ownership(s.catalog()) {
		if strings.EqualFold(row.Tool, name) {
			writeJSON(w, http.StatusOK, row)
			return nil
		}
	}
	return notFound("no tool named %s", name)
}

func (s *Server) reload(w http.ResponseWriter, r *http.Request) error {
	cfg, err := s.Config.Reload(s.Clock.Now())
	if err != nil {
		s.Log.Warn("config reload rejected; the previous config keeps serving", "err", err)
		var errs config.Errors
		if errors.As(err, &errs) {
			details := make([]string, len(errs))
			for i, e := range errs {
				details[i] = e.String()
			}
			return &tandem.Error{Code: tandem.EInvalid, Details: details,
				Message: "config rejected with " + errs.Count() + "; the previous config keeps serving"}
		}
		return tandem.Errorf(tandem.EInvalid, "config rejected, the previous config keeps serving: %v", err)
	}
	if s.Reloaded != nil {
		s.Reloaded(cfg)
	}
	s.Log.Info("config reloaded", "dir", cfg.Dir, "services", len(cfg.Catalog.Services))
	writeJSON(w, http.StatusOK, map[string]any{"status": "reloaded", "loaded_at": cfg.LoadedAt, "services": len(cfg.Catalog.Services)})
	return nil
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	toks, err := s.Tokens.List(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(toks))
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// tokenRequest is the body of POST /api/v1/admin/tokens.
type tokenRequest struct {
	Name  string `json:"name"`
	Scope string `json:"scope"`
}

// createToken makes a token and answers 201 with it and its secret, which
// is shown this once.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	var req tokenRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Name) == "" {
		return tandem.FieldErrorf("name", "required: a name for the token")
	}
	sc, err := auth.ParseScope(req.Scope)
	if err != nil {
		return err
	}
	tok, secret, err := s.Tokens.Create(r.Context(), req.Name, sc, s.Clock.Now())
	if err != nil {
		return err
	}
	s.Log.Info("token created", "name", tok.Name, "scope", tok.Scope, "by", actor(r))
	writeJSON(w, http.StatusCreated, struct {
		auth.Token
		Secret string `json:"token"`
	}{tok, secret})
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := s.Tokens.Revoke(r.Context(), name, s.Clock.Now()); err != nil {
		return err
	}
	s.Log.Info("token revoked", "name", name, "by", actor(r))
	w.WriteHeader(http.StatusNoContent)
	return nil
}
