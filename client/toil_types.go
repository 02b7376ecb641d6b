package client

import (
	"time"

	"github.com/tandemhq/tandem"
)

// ToilEntry is one piece of toil: who spent how many minutes on what, when.
type ToilEntry struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Minutes  int       `json:"minutes"`
	Category string    `json:"category"`
	Service  string    `json:"service,omitempty"`
	Team     string    `json:"team,omitempty"`
	Person   string    `json:"person,omitempty"`
	Note     string    `json:"note,omitempty"`
	// Source says where the entry came from: manual, jira, linear, github.
	Source string `json:"source"`
	// ExternalID is the ticket key in Source (PROJ-12, ENG-4, owner/repo#7);
	// an import of the same ticket twice records it once.
	ExternalID string    `json:"external_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// ToilImportReport is the answer of an import through the API: what was
// recorded, or (Imported false) every bad row and nothing recorded.
type ToilImportReport struct {
	Format   string         `json:"format,omitempty"`
	Imported bool           `json:"imported"`
	Created  int            `json:"created"`
	Existing int            `json:"existing"`
	Skipped  int            `json:"skipped"`
	Bad      []ToilRowError `json:"bad"`
	Error    *tandem.Error  `json:"error,omitempty"`
}

// ToilImportResult is what an import file holds: the good entries, every bad
// row, and how many rows were not toil tickets.
type ToilImportResult struct {
	Format  string         `json:"format"`
	Entries []ToilEntry    `json:"entries"`
	Bad     []ToilRowError `json:"bad"`
	Skipped int            `json:"skipped"`
}

// ToilRowError is one bad row of an import, by its 1-based line in the file
// (the header is line 1) or its position in the source.
type ToilRowError struct {
	Row     int    `json:"row"`
	Ref     string `json:"ref,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// ToilReport is toil grouped over a period, compared with the one before.
type ToilReport struct {
	Period   ToilPeriod `json:"period"`
	Previous ToilPeriod `json:"previous"`
	By       string     `json:"by,omitempty"`
	Rows     []ToilRow  `json:"rows"`
	Total    ToilRow    `json:"total"`
}

// ToilGoalStatus is a goal's progress at a moment.
type ToilGoalStatus struct {
	Goal          ToilGoal `json:"goal"`
	BaselineHours float64  `json:"baseline_hours"`
	TargetHours   float64  `json:"target_hours"`
	CurrentHours  float64  `json:"current_hours"`
	// Progress is the share of the planned reduction achieved, 0..1.
	Progress float64 `json:"progress"`
	// Expected is the share of the time from Start to Deadline gone by.
	Expected float64 `json:"expected"`
	// State is on_track, behind, achieved or missed.
	State string `json:"state"`
}

// ToilPeriod is a half-open time range [From, To).
type ToilPeriod struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// ToilRow is one group of a report.
type ToilRow struct {
	Key       string  `json:"key"`
	Entries   int     `json:"entries"`
	Hours     float64 `json:"hours"`
	PrevHours float64 `json:"previous_hours"`
	// Change is (Hours-PrevHours)/PrevHours; nil when the previous period
	// had none.
	Change *float64 `json:"change,omitempty"`
	// Trend is up, down, flat, or new (nothing in the previous period).
	Trend string `json:"trend"`
	// OncallHours and OncallShare are set where on-call time is known for
	// the group: hours on call in the period, and Hours/OncallHours.
	OncallHours *float64 `json:"oncall_hours,omitempty"`
	OncallShare *float64 `json:"oncall_share,omitempty"`
}

// ToilGoal is a toil reduction goal from config: bring the hours of matching
// toil per Window from Baseline down to the target by Deadline.
type ToilGoal struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Category, Service, Team and Person select the entries (empty: any).
	Category string `json:"category,omitempty"`
	Service  string `json:"service,omitempty"`
	Team     string `json:"team,omitempty"`
	Person   string `json:"person,omitempty"`
	// BaselineHours is the hours per Window at Start; 0 means measure them
	// from the entries in the Window before Start.
	BaselineHours float64 `json:"baseline_hours,omitempty"`
	// ReduceBy is the fraction to cut (0.8 for 80%); TargetHours, when set,
	// is the target itself and wins.
	ReduceBy    float64       `json:"reduce_by,omitempty"`
	TargetHours float64       `json:"target_hours,omitempty"`
	Window      time.Duration `json:"window"`
	Start       time.Time     `json:"start"`
	Deadline    time.Time     `json:"deadline"`
}
