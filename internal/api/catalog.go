package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tandemhq/tandem"
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

func (s *Server) listServices(w http.ResponseWriter, r *http.Request) error {
	c := s.catalog()
	q := r.URL.Query()
	team, env := q.Get("team"), q.Get("environment")
	out := make([]catalog.Service, 0, len(c.Services))
	for _, svc := range c.Services {
		if team != "" && svc.Team != team {
			continue
		}
		if env != "" && !contains(svc.Environments, env) {
			continue
		}
		out = append(out, svc)
	}
	writeJSON(w, http.StatusOK, newList(out))
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

// unknownService is the 404 for a service path parameter.
func (s *Server) unknownService(name string) error {
	msg := "no service named " + name
	if c := catalog.Closest(name, s.catalog().ServiceNames(), 3); len(c) > 0 {
		msg += "; did you mean " + strings.Join(c, ", ") + "?"
	}
	return tandem.Errorf(tandem.ENotFound, "%s", msg)
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
				Message: fmt.Sprintf("config rejected with %d errors; the previous config keeps serving", len(errs))}
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
