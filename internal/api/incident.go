package api

import "net/http"

// IncidentDeps is what the incidents, inbound alerts, notifications and the job engine endpoints need.
type IncidentDeps struct{}

// incidentRoutes registers the incidents, inbound alerts, notifications and the job engine endpoints.
func (s *Server) incidentRoutes(mux *http.ServeMux) {}
