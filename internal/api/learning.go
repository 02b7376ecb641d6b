package api

import "net/http"

// LearningDeps is what the postmortems, action items, toil and reliability OKRs endpoints need.
type LearningDeps struct{}

// learningRoutes registers the postmortems, action items, toil and reliability OKRs endpoints.
func (s *Server) learningRoutes(mux *http.ServeMux) {}
