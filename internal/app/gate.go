package app

import "context"

// wireGate builds the CI/CD gates, post-deploy verification and migration checks capability: its stores for the API and
// dashboard, and its background modules.
func (m *Main) wireGate(ctx context.Context) error { return nil }
