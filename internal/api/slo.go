package api

import "net/http"

// SLODeps is what the SLOs, SLI ingest, error budgets and burn-rate alerts endpoints need.
type SLODeps struct{}

// sloRoutes registers the SLOs, SLI ingest, error budgets and burn-rate alerts endpoints.
func (s *Server) sloRoutes(mux *http.ServeMux) {}
