package dora

import (
	"testing"
	"time"
)

// The DORA 2024 table, value by value on each side of every boundary.
func TestFrequencyTier(t *testing.T) {
	for _, c := range []struct {
		perDay float64
		want   Tier
	}{
		{3, Elite},
		{1, Elite},             // one a day: on demand
		{0.999, High},          // just under daily
		{1.0 / 7, High},        // once a week
		{1.0/7 - 1e-9, Medium}, // just under weekly
		{1.0 / 30, Medium},     // once a month (30 days)
		{1.0/30 - 1e-9, Low},   // just under monthly
		{1.0 / 180, Low},       // once in six months
		{0, Low},               // none
	} {
		if got := FrequencyTier(c.perDay); got != c.want {
			t.Errorf("FrequencyTier(%v) = %s, want %s", c.perDay, got, c.want)
		}
	}
}

func TestLeadTimeTier(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want Tier
	}{
		{0, Elite},
		{time.Hour, Elite},
		{24*time.Hour - time.Second, Elite},
		{24 * time.Hour, High}, // "between one day and one week"
		{7*24*time.Hour - time.Second, High},
		{7 * 24 * time.Hour, Medium},
		{30*24*time.Hour - time.Second, Medium},
		{30 * 24 * time.Hour, Low},
		{180 * 24 * time.Hour, Low},
	} {
		if got := LeadTimeTier(c.d); got != c.want {
			t.Errorf("LeadTimeTier(%v) = %s, want %s", c.d, got, c.want)
		}
	}
}

func TestChangeFailureTier(t *testing.T) {
	for _, c := range []struct {
		rate float64
		want Tier
	}{
		{0, Elite},
		{0.05, Elite},
		{0.0501, High},
		{0.10, High},
		{0.20, High},
		{0.2001, Medium},
		{0.40, Medium},
		{0.4001, Low},
		{1, Low},
	} {
		if got := ChangeFailureTier(c.rate); got != c.want {
			t.Errorf("ChangeFailureTier(%v) = %s, want %s", c.rate, got, c.want)
		}
	}
}

func TestRecoveryTier(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want Tier
	}{
		{0, Elite},
		{59 * time.Minute, Elite},
		{time.Hour, High},
		{24*time.Hour - time.Second, High},
		{24 * time.Hour, Medium},
		{7*24*time.Hour - time.Second, Medium},
		{7 * 24 * time.Hour, Low},
		{30 * 24 * time.Hour, Low},
	} {
		if got := RecoveryTier(c.d); got != c.want {
			t.Errorf("RecoveryTier(%v) = %s, want %s", c.d, got, c.want)
		}
	}
}
