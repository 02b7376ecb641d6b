package client

import (
	"time"
)

// DORAReport is the DORA metrics of one scope (the org, a team or a service)
// over [From, To). A metric that cannot be computed is null in JSON and its
// tier is "no_data". The counts say what each metric was computed from.
type DORAReport struct {
	Service     string    `json:"service,omitempty"`
	Team        string    `json:"team,omitempty"`
	Environment string    `json:"environment,omitempty"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	Days        float64   `json:"days"`
	// Deployment frequency: successful deploys per day and week.
	DeploymentFrequencyPerDay  float64 `json:"deployment_frequency_per_day"`
	DeploymentFrequencyPerWeek float64 `json:"deployment_frequency_per_week"`
	DeploymentFrequencyTier    string  `json:"deployment_frequency_tier"`
	// Deploys counts finished deploys (any status); SuccessfulDeploys those
	// that succeeded.
	Deploys           int `json:"deploys"`
	SuccessfulDeploys int `json:"successful_deploys"`
	// Lead time for changes, per commit, in seconds.
	LeadTimeMedianSeconds *float64 `json:"lead_time_median_seconds"`
	LeadTimeP90Seconds    *float64 `json:"lead_time_p90_seconds"`
	LeadTimeTier          string   `json:"lead_time_tier"`
	LeadTimeCommits       int      `json:"lead_time_commits"`
	// Change failure rate: (FailedDeploys + FailedConfigChanges) /
	// (Deploys + ConfigChanges); config changes and flag flips are changes
	// to production (docs/dora.md).
	ChangeFailureRate     *float64 `json:"change_failure_rate"`
	ChangeFailureRateTier string   `json:"change_failure_rate_tier"`
	FailedDeploys         int      `json:"failed_deploys"`
	// ConfigChanges counts finished config changes and flag flips in the
	// period; FailedConfigChanges those that failed (status failed or
	// rolled_back, a failed verification included, or named by an
	// incident).
	ConfigChanges       int `json:"config_changes"`
	FailedConfigChanges int `json:"failed_config_changes"`
	// Failed deployment recovery time, in seconds, over Recoveries; failures
	// not yet recovered are OpenFailures.
	RecoveryTimeMedianSeconds *float64 `json:"recovery_time_median_seconds"`
	RecoveryTimeP90Seconds    *float64 `json:"recovery_time_p90_seconds"`
	RecoveryTimeTier          string   `json:"recovery_time_tier"`
	Recoveries                int      `json:"recoveries"`
	OpenFailures              int      `json:"open_failures"`
	// Rework rate: ReworkDeploys / Deploys. DORA 2024 gives it no tiers.
	ReworkRate    *float64 `json:"rework_rate"`
	ReworkDeploys int      `json:"rework_deploys"`
	// Periods breaks the report down (by day, week or month) when asked.
	Periods []DORAReport `json:"periods,omitempty"`
}
