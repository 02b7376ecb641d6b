package api

import (
	"net/http"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/sli"
	"github.com/tandemhq/tandem/internal/slo"
)

// SLODeps is what the SLOs, SLI ingest, error budgets and burn-rate alerts endpoints need.
type SLODeps struct {
	// Service evaluates SLOs (nil: the endpoints answer 503).
	Service *slo.Service
	// Store keeps native SLI data.
	Store *slo.Store
}

// sloRoutes registers the SLOs, SLI ingest, error budgets and burn-rate alerts endpoints.
func (s *Server) sloRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET /api/v1/slos", auth.ScopeRead, s.listSLOs)
	s.handle(mux, "GET /api/v1/slos/{name}", auth.ScopeRead, s.getSLO)
	s.handle(mux, "GET /api/v1/slos/{name}/history", auth.ScopeRead, s.sloHistory)
	s.handle(mux, "POST /api/v1/slos/{name}/events", auth.ScopeWrite, s.ingestSLOEvents)
	s.handle(mux, "GET /api/v1/services/{name}/freeze", auth.ScopeRead, s.serviceFreeze)
}

func (s *Server) sloService() (*slo.Service, error) {
	if s.SLO.Service == nil {
		return nil, tandem.Errorf(tandem.EUnavailable, "SLO evaluation is not configured on this server")
	}
	return s.SLO.Service, nil
}

// listSLOs answers every SLO's status, evaluated now; ?service= and
// ?environment= filter.
func (s *Server) listSLOs(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.sloService()
	if err != nil {
		return err
	}
	service := r.URL.Query().Get("service")
	if service != "" {
		if _, ok := s.catalog().Service(service); !ok {
			return s.unknownService(service)
		}
	}
	sts, err := svc.StatusAll(r.Context(), s.Clock.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(slo.FilterStatus(sts, service, r.URL.Query().Get("environment"))))
	return nil
}

func (s *Server) getSLO(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.sloService()
	if err != nil {
		return err
	}
	st, err := svc.Status(r.Context(), r.PathValue("name"), s.Clock.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// sloHistory answers hourly points in (from, to]; from defaults to 7 days
// before to, to to now.
func (s *Server) sloHistory(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.sloService()
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	from, err := queryTime(r, "from", now)
	if err != nil {
		return err
	}
	to, err := queryTime(r, "to", now)
	if err != nil {
		return err
	}
	if to.IsZero() {
		to = now
	}
	if from.IsZero() {
		from = to.Add(-7 * 24 * time.Hour)
	}
	pts, err := svc.History(r.Context(), r.PathValue("name"), from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"slo": r.PathValue("name"), "from": from, "to": to, "items": pts, "count": len(pts)})
	return nil
}

// ingestSLOEvents takes a batch of counts or raw observations for a native
// SLO. It answers 202 with the minutes touched, or 200 with "duplicate"
// when the (source, batch_id) was applied before.
func (s *Server) ingestSLOEvents(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.sloService()
	if err != nil {
		return err
	}
	def, err := svc.Definition(r.PathValue("name"))
	if err != nil {
		return err
	}
	var b sli.Batch
	if err := decode(r, &b); err != nil {
		return err
	}
	now := s.Clock.Now()
	buckets, err := sli.Aggregate(def, b, now)
	if err != nil {
		return err
	}
	source := b.Source
	if source == "" {
		source = actor(r)
	}
	var sliceWindow time.Duration
	if def.Method == slo.Timeslices {
		sliceWindow = def.TimeSliceWindow
	}
	applied, err := s.SLO.Store.Ingest(r.Context(), def.Name, source, b.BatchID, buckets, sliceWindow, def.TimeSliceTarget, now)
	if err != nil {
		return err
	}
	if !applied {
		writeJSON(w, http.StatusOK, map[string]any{"status": "duplicate", "slo": def.Name, "source": source, "batch_id": b.BatchID})
		return nil
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"status": "accepted", "slo": def.Name, "events": len(b.Events), "minutes": len(buckets)})
	return nil
}

// serviceFreeze answers whether a service is in release freeze, evaluating
// its SLOs now.
func (s *Server) serviceFreeze(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.sloService()
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	if _, ok := s.catalog().Service(name); !ok {
		return s.unknownService(name)
	}
	env := r.URL.Query().Get("environment")
	if env == "" {
		env = slo.DefaultEnvironment
	}
	writeJSON(w, http.StatusOK, map[string]any{"service": name, "environment": env, "freeze": svc.FreezeIn(r.Context(), name, env, s.Clock.Now())})
	return nil
}
