package app

import "context"

// wireChange builds the change events, GitHub deploy webhooks and DORA metrics capability: its stores for the API and
// dashboard, and its background modules.
func (m *Main) wireChange(ctx context.Context) error { return nil }
