package client

import (
	"time"
)

// SLOBatch is the body of POST /api/v1/slos/{name}/events. Source and BatchID
// make it idempotent: a batch with the same (source, batch_id) is applied
// once.
type SLOBatch struct {
	Source  string     `json:"source"`
	BatchID string     `json:"batch_id"`
	Events  []SLOEvent `json:"events"`
}

// SLOEvent is one item of an ingest batch: either counts (Good and Total) or
// one raw observation (LatencyMs and/or Status).
type SLOEvent struct {
	Time      time.Time `json:"time"`
	Good      *int64    `json:"good,omitempty"`
	Total     *int64    `json:"total,omitempty"`
	LatencyMs *float64  `json:"latency_ms,omitempty"`
	Status    *int      `json:"status,omitempty"`
}
