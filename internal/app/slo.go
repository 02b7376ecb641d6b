package app

import "context"

// wireSLO builds the SLOs, SLI ingest, error budgets and burn-rate alerts capability: its stores for the API and
// dashboard, and its background modules.
func (m *Main) wireSLO(ctx context.Context) error { return nil }
