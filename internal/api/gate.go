package api

import "net/http"

// GateDeps is what the CI/CD gates, post-deploy verification and migration checks endpoints need.
type GateDeps struct{}

// gateRoutes registers the CI/CD gates, post-deploy verification and migration checks endpoints.
func (s *Server) gateRoutes(mux *http.ServeMux) {}
