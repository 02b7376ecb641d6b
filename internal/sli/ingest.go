package sli

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/slo"
)

// MaxBatch is the most events one ingest request may carry.
const MaxBatch = 100_000

// Event is one item of an ingest batch: either counts (Good and Total) or
// one raw observation (LatencyMs and/or Status).
type Event struct {
	Time      time.Time `json:"time"`
	Good      *int64    `json:"good,omitempty"`
	Total     *int64    `json:"total,omitempty"`
	LatencyMs *float64  `json:"latency_ms,omitempty"`
	Status    *int      `json:"status,omitempty"`
}

// Batch is the body of POST /api/v1/slos/{name}/events. Source and BatchID
// make it idempotent: a batch with the same (source, batch_id) is applied
// once.
type Batch struct {
	Source  string  `json:"source"`
	BatchID string  `json:"batch_id"`
	Events  []Event `json:"events"`
}

// Aggregate validates a batch for SLO def at now and folds it into minute
// buckets, sorted by minute, with each minute's latencies in a sketch. A count event adds Good good and Total total
// events; an observation is one event, good when its status is below the
// indicator's MaxStatus and (with LatencyMaxMs) its latency at most that.
// Times must lie within the hour retention before now and at most five
// minutes after it. Errors are *tandem.Error naming the field
// ("events[3].good").
func Aggregate(def *slo.Definition, b Batch, now time.Time) ([]slo.NativeBucket, error) {
	if def.Indicator.Source != slo.SourceNative {
		return nil, tandem.Errorf(tandem.EInvalid, "SLO %s reads %s, not tandem ingest; post events to an SLO whose metric source is {type: tandem, spec: {source: ingest}}", def.Name, def.Indicator.Source)
	}
	if o := def.Indicator.OTLP; o != nil {
		return nil, tandem.Errorf(tandem.EInvalid, "SLO %s is fed by OTLP metric %s through POST /v1/metrics; it takes no posted events", def.Name, o.Metric)
	}
	if len(b.Source) > 200 {
		return nil, tandem.FieldErrorf("source", "at most 200 characters")
	}
	if len(b.BatchID) > 200 {
		return nil, tandem.FieldErrorf("batch_id", "at most 200 characters")
	}
	if b.BatchID != "" && b.Source == "" {
		return nil, tandem.FieldErrorf("source", "required with batch_id: batches are idempotent per (source, batch_id)")
	}
	if len(b.Events) == 0 {
		return nil, tandem.FieldErrorf("events", "required: at least one event")
	}
	if len(b.Events) > MaxBatch {
		return nil, tandem.FieldErrorf("events", "at most %d events per batch, got %d", MaxBatch, len(b.Events))
	}
	oldest, newest := now.Add(-slo.HourRetention), now.Add(5*time.Minute)
	maxStatus := def.Indicator.MaxStatus
	if maxStatus == 0 {
		maxStatus = 500
	}
	minutes := map[int64]*slo.NativeBucket{}
	for i := range b.Events {
		e := &b.Events[i]
		field := func(f string) string { return fmt.Sprintf("events[%d].%s", i, f) }
		if e.Time.IsZero() {
			return nil, tandem.FieldErrorf(field("time"), "required: an RFC 3339 time")
		}
		if e.Time.Before(oldest) || e.Time.After(newest) {
			return nil, tandem.FieldErrorf(field("time"), "%s is outside the accepted range (the last %d days up to now)", e.Time.UTC().Format(time.RFC3339), int(slo.HourRetention.Hours()/24))
		}
		counts := e.Good != nil || e.Total != nil
		obs := e.LatencyMs != nil || e.Status != nil
		var good, total int64
		lat := -1.0
		switch {
		case counts && obs:
			return nil, tandem.FieldErrorf(field("good"), "an event carries counts (good, total) or one observation (latency_ms, status), not both")
		case counts:
			if e.Total == nil {
				return nil, tandem.FieldErrorf(field("total"), "required with good")
			}
			if e.Good == nil {
				return nil, tandem.FieldErrorf(field("good"), "required with total")
			}
			good, total = *e.Good, *e.Total
			if total < 0 || total > 1<<40 {
				return nil, tandem.FieldErrorf(field("total"), "must be from 0 to 2^40, got %d", total)
			}
			if good < 0 || good > total {
				return nil, tandem.FieldErrorf(field("good"), "must be from 0 to total (%d), got %d", total, good)
			}
		case obs:
			total, good = 1, 1
			if e.Status != nil {
				if *e.Status < 100 || *e.Status > 599 {
					return nil, tandem.FieldErrorf(field("status"), "expected an HTTP status from 100 to 599, got %d", *e.Status)
				}
				if *e.Status >= maxStatus {
					good = 0
				}
			}
			if e.LatencyMs != nil {
				l := *e.LatencyMs
				if math.IsNaN(l) || l < 0 || l > 1e9 {
					return nil, tandem.FieldErrorf(field("latency_ms"), "expected milliseconds from 0 to 1e9, got %v", l)
				}
				lat = l
				if def.Indicator.LatencyMaxMs > 0 && l > def.Indicator.LatencyMaxMs {
					good = 0
				}
			} else if def.Indicator.LatencyMaxMs > 0 {
				return nil, tandem.FieldErrorf(field("latency_ms"), "required: SLO %s counts requests under %v ms as good", def.Name, def.Indicator.LatencyMaxMs)
			}
		default:
			return nil, tandem.FieldErrorf(field("total"), "an event needs counts (good, total) or an observation (latency_ms, status)")
		}
		key := e.Time.UTC().Truncate(time.Minute).UnixMilli()
		m := minutes[key]
		if m == nil {
			m = &slo.NativeBucket{Start: time.UnixMilli(key).UTC()}
			minutes[key] = m
		}
		m.Good += good
		m.Total += total
		if lat >= 0 {
			if m.Latency == nil {
				m.Latency = slo.NewLatency()
			}
			if err := m.Latency.Add(lat); err != nil {
				return nil, tandem.FieldErrorf(field("latency_ms"), "%v", err)
			}
		}
	}
	out := make([]slo.NativeBucket, 0, len(minutes))
	for _, m := range minutes {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}
