package app

import "context"

// wireLearning builds the postmortems, action items, toil and reliability OKRs capability: its stores for the API and
// dashboard, and its background modules.
func (m *Main) wireLearning(ctx context.Context) error { return nil }
