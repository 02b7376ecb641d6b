package web

import (
	"context"
	"time"
)

// fillSLOs sets each row's SLOs; false when the SLO capability is not wired.
func (h *Handler) fillSLOs(ctx context.Context, now time.Time, rows []overviewRow, index map[string]int) (bool, error) {
	return false, nil
}

// fillTiers sets each row's DORA tier badges; false when DORA is not wired.
func (h *Handler) fillTiers(ctx context.Context, now time.Time, rows []overviewRow, index map[string]int) (bool, error) {
	return false, nil
}

// fillOncall sets who is on call now for each row; false when on-call is
// not wired.
func (h *Handler) fillOncall(ctx context.Context, now time.Time, rows []overviewRow) (bool, error) {
	return false, nil
}
