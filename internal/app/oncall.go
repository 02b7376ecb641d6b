package app

import "context"

// wireOncall builds the on-call schedules, overrides and escalation policies capability: its stores for the API and
// dashboard, and its background modules.
func (m *Main) wireOncall(ctx context.Context) error { return nil }
