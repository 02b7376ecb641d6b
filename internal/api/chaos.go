package api

import (
	"net/http"
	"strconv"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/chaos"
)

// ChaosDeps is what the chaos experiment endpoints need.
type ChaosDeps struct {
	// Service runs chaos experiments (nil: the endpoints answer 503).
	Service *chaos.Service
}

// chaosRoutes registers the chaos experiment endpoints. Reports of chaos
// tools come in through POST /api/v1/chaos/import, which takes a write
// token like every API write: LitmusChaos and Chaos Mesh objects sent by
// a job with kubectl, and Gremlin's webhooks, whose custom headers carry
// the token (Authorization: Bearer …).
func (s *Server) chaosRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET /api/v1/chaos", auth.ScopeRead, s.listChaos)
	s.handle(mux, "POST /api/v1/chaos/runs", auth.ScopeWrite, s.startChaos)
	s.handle(mux, "GET /api/v1/chaos/runs/{id}", auth.ScopeRead, s.getChaos)
	s.handle(mux, "GET /api/v1/chaos/runs/{id}/observe", auth.ScopeRead, s.observeChaos)
	s.handle(mux, "POST /api/v1/chaos/runs/{id}/finish", auth.ScopeWrite, s.finishChaos)
	s.handle(mux, "POST /api/v1/chaos/import", auth.ScopeWrite, s.importChaos)
}

func (s *Server) chaosService() (*chaos.Service, error) {
	if s.Chaos.Service == nil {
		return nil, tandem.Errorf(tandem.EUnavailable, "chaos experiments are not configured on this server")
	}
	return s.Chaos.Service, nil
}

func (s *Server) actor(r *http.Request) string {
	if tok, ok := TokenFrom(r.Context()); ok && tok.Name != "" {
		return "token:" + tok.Name
	}
	return ""
}

// listChaos answers the chaos runs, newest first; ?service=,
// ?environment= and ?limit= (1 to 1000, default 100) filter.
func (s *Server) listChaos(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.chaosService()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := chaos.Filter{Service: q.Get("service"), Environment: q.Get("environment")}
	if f.Service != "" {
		if err := s.checkService("service", f.Service); err != nil {
			return err
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return tandem.FieldErrorf("limit", "want a number from 1 to 1000, got %q", v)
		}
		f.Limit = n
	}
	runs, err := svc.List(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(runs))
	return nil
}

func (s *Server) startChaos(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.chaosService()
	if err != nil {
		return err
	}
	var in chaos.StartInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Service == "" {
		return tandem.FieldErrorf("service", "required")
	}
	if err := s.checkService("service", in.Service); err != nil {
		return err
	}
	if in.Actor == "" {
		in.Actor = s.actor(r)
	}
	run, states, err := svc.Start(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"run": run, "steady_state": states})
	return nil
}

func (s *Server) getChaos(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.chaosService()
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	run, err := svc.Store.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, run)
	return nil
}

func (s *Server) observeChaos(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.chaosService()
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	o, err := svc.Observe(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

func (s *Server) finishChaos(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.chaosService()
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in chaos.FinishInput
	if err := decode(r, &in); err != nil {
		return err
	}
	run, err := svc.Finish(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, run)
	return nil
}

// importChaos records a chaos tool's report: ?format= (litmus, chaos-mesh,
// gremlin; detected when absent), ?service= and ?environment= for
// reports that do not name them.
func (s *Server) importChaos(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.chaosService()
	if err != nil {
		return err
	}
	body, err := ReadBody(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	reports, err := chaos.Parse(q.Get("format"), body)
	if err != nil {
		return err
	}
	known := func(name string) bool { _, ok := s.catalog().Service(name); return ok }
	runs, err := svc.Import(r.Context(), reports, q.Get("service"), q.Get("environment"), s.actor(r), known)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(runs))
	return nil
}
