package api

import "net/http"

// OncallDeps is what the on-call schedules, overrides and escalation policies endpoints need.
type OncallDeps struct{}

// oncallRoutes registers the on-call schedules, overrides and escalation policies endpoints.
func (s *Server) oncallRoutes(mux *http.ServeMux) {}
