package api

import "net/http"

// ChangeDeps is what the change events, GitHub deploy webhooks and DORA metrics endpoints need.
type ChangeDeps struct{}

// changeRoutes registers the change events, GitHub deploy webhooks and DORA metrics endpoints.
func (s *Server) changeRoutes(mux *http.ServeMux) {}
