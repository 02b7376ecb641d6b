package dora

import "time"

// Tier is a DORA performance level.
type Tier string

// The four DORA performance levels, and NoData for a metric that could not
// be computed (no commits with times, no deploys, no failures recovered).
const (
	Elite  Tier = "elite"
	High   Tier = "high"
	Medium Tier = "medium"
	Low    Tier = "low"
	NoData Tier = "no_data"
)

// The tier boundaries, from the DORA 2024 Accelerate State of DevOps report's
// software delivery performance table (see docs/dora.md for how ranges that
// the report gives as typical values are turned into boundaries).
const (
	day   = 24 * time.Hour
	week  = 7 * day
	month = 30 * day
)

// FrequencyTier rates successful deploys per day: elite at least one per day
// (on demand, several a day), high at least one per week, medium at least
// one per month (30 days), low below.
func FrequencyTier(perDay float64) Tier {
	switch {
	case perDay >= 1:
		return Elite
	case perDay >= 1.0/7:
		return High
	case perDay >= 1.0/30:
		return Medium
	}
	return Low
}

// LeadTimeTier rates the median lead time: elite under one day, high under
// one week, medium under one month (30 days), low from a month.
func LeadTimeTier(median time.Duration) Tier {
	switch {
	case median < day:
		return Elite
	case median < week:
		return High
	case median < month:
		return Medium
	}
	return Low
}

// ChangeFailureTier rates the change failure rate (0..1): elite up to 5 %,
// high up to 20 %, medium up to 40 %, low above.
func ChangeFailureTier(rate float64) Tier {
	switch {
	case rate <= 0.05:
		return Elite
	case rate <= 0.20:
		return High
	case rate <= 0.40:
		return Medium
	}
	return Low
}

// RecoveryTier rates the median failed deployment recovery time: elite
// under one hour, high under one day, medium under one week, low from a week.
func RecoveryTier(median time.Duration) Tier {
	switch {
	case median < time.Hour:
		return Elite
	case median < day:
		return High
	case median < week:
		return Medium
	}
	return Low
}
