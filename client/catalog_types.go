package client

// Service is something that runs in production.
type Service struct {
	// Name identifies the service (required): SLOs, changes, incidents
	// and gates refer to it. Written as a team's name is.
	Name string `json:"name"`
	// Description is free text about the service.
	Description string `json:"description,omitempty"`
	// Team names the team that owns the service (required).
	Team string `json:"team"`
	// Tier is the service's criticality from 1 (most critical) to 4,
	// shown and filtered on the dashboard (default 0: none).
	Tier int `json:"tier"`
	// Repository is the service's repository URL: GitHub webhook
	// deliveries from that repository are recorded for the service.
	Repository string `json:"repository,omitempty"`
	// Environments lists where the service runs (default [production]).
	Environments []string `json:"environments"`
	// DependsOn names the services this one depends on; their changes are
	// suspects of this service's incidents too.
	DependsOn []string `json:"depends_on"`
	// EscalationPolicy names the escalation policy paged for the service's
	// incidents; without one, incidents.fallback_escalation_policy is.
	EscalationPolicy string `json:"escalation_policy,omitempty"`
	// RevenuePerMinute estimates what a minute of full outage costs, not
	// negative; postmortems use it when an incident gives no estimate.
	RevenuePerMinute float64 `json:"revenue_per_minute,omitempty"`
}

// Team is a group of people that owns services and tools.
type Team struct {
	// Name identifies the team (required): services, people and tool
	// owners refer to it. At most 63 letters, digits, '.', '_' or '-',
	// starting with a letter or digit; no person may have the same name.
	Name string `json:"name"`
	// DisplayName is how the team is shown, as in the tool-ownership
	// export (default: its name).
	DisplayName string `json:"display_name,omitempty"`
	// Description is free text about the team.
	Description string `json:"description,omitempty"`
	// SlackChannel is the team's Slack channel, shown as the team's
	// contact in the tool-ownership export.
	SlackChannel string `json:"slack_channel,omitempty"`
	// Members are the names of the team's people; each must be in people.
	Members []string `json:"members"`
}

// Person is someone who can own things and be paged.
type Person struct {
	// Name identifies the person (required): teams, schedules, escalation
	// policies, notification rules and tool owners refer to it. Written
	// as a team's name is; no team may have the same name.
	Name string `json:"name"`
	// FullName is how the person is shown, as in the tool-ownership
	// export (default: their name).
	FullName string `json:"full_name,omitempty"`
	// Email is the person's address: their email contact method, and where
	// reminders of their overdue action items go.
	Email string `json:"email,omitempty"`
	// Slack is the person's Slack member ID such as U012AB3CD (not a
	// @handle, which Slack does not notify): their slack contact method.
	Slack string `json:"slack,omitempty"`
	// Phone is an E.164 number such as +15551234567: the person's sms and
	// voice contact methods.
	Phone string `json:"phone,omitempty"`
	// TimeZone is the person's IANA time zone such as Europe/Berlin, for
	// reference; schedules keep their own time_zone.
	TimeZone string `json:"timezone,omitempty"`
	// Team names the person's team; toil they log on no service counts
	// for it.
	Team string `json:"team,omitempty"`
}

// OwnershipRow is one line of the tool-ownership table.
type OwnershipRow struct {
	Tool        string    `json:"tool"`
	Description string    `json:"description,omitempty"`
	URL         string    `json:"url,omitempty"`
	Primary     OwnerRef  `json:"primary_owner"`
	Backup      *OwnerRef `json:"backup_owner,omitempty"`
}

// OwnerRef is a resolved owner with how to reach it.
type OwnerRef struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Display string `json:"display"`
	// email or Slack for people, Slack channel for teams
	Contact string `json:"contact,omitempty"`
}
