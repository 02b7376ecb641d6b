// Package postmortem writes the postmortem of every serious incident from
// what tandem already knows, tracks its action items, and publishes it.
//
// When an incident of a configured severity (default sev1, configurable per
// service) is closed, the close transaction enqueues a durable job
// (Service.CloseHook); the job builds Data from the incident, its timeline,
// the changes before and during it, its pages and the error budget it
// spent (BuildData, pure), renders the team's template (Render, pure) and
// stores the postmortem as a draft. A template that fails at render time
// still yields a postmortem, with the error marked at its top, stored in
// RenderError and logged.
//
// A postmortem moves draft → in_review → published (and back, to edit).
// Saving its Markdown re-reads the checklist lines of its "Action items"
// section (ParseActionItems) into action items. Publishing is a durable
// job too: a file in a directory, and a GitHub issue created exactly once
// (the issue number is stored; a retry after an ambiguous failure looks for
// the issue first, by a marker in its body).
package postmortem

import (
	"time"

	"github.com/tandemhq/tandem"
)

// Postmortem statuses.
const (
	Draft     = "draft"
	InReview  = "in_review"
	Published = "published"
)

// ParseStatus accepts draft, in_review (or "in review", in-review) and
// published.
func ParseStatus(s string) (string, error) {
	switch s {
	case Draft, InReview, Published:
		return s, nil
	case "in review", "in-review", "review":
		return InReview, nil
	}
	return "", tandem.FieldErrorf("status", "want draft, in_review or published, got %q", s)
}

// Postmortem is a stored postmortem.
type Postmortem struct {
	ID          int64  `json:"id"`
	IncidentID  int64  `json:"incident_id"`
	Title       string `json:"title"`
	Team        string `json:"team,omitempty"`
	Template    string `json:"template"`
	Status      string `json:"status"`
	Markdown    string `json:"markdown"`
	RenderError string `json:"render_error,omitempty"`
	// Version counts saves; publishing records the version it published.
	Version          int          `json:"version"`
	CreatedAt        time.Time    `json:"created_at"`
	UpdatedAt        time.Time    `json:"updated_at"`
	PublishedAt      *time.Time   `json:"published_at,omitempty"`
	PublishedVersion int          `json:"published_version,omitempty"`
	FilePath         string       `json:"file_path,omitempty"`
	GitHubIssue      int64        `json:"github_issue,omitempty"`
	GitHubIssueURL   string       `json:"github_issue_url,omitempty"`
	ActionItems      []ActionItem `json:"action_items"`

	githubAttemptedAt time.Time
}

// Action item statuses.
const (
	ItemOpen = "open"
	ItemDone = "done"
)

// ActionItem is a follow-up: from a postmortem's checklist (Source
// "postmortem") or added by hand ("manual").
type ActionItem struct {
	ID           int64      `json:"id"`
	PostmortemID int64      `json:"postmortem_id,omitempty"`
	IncidentID   int64      `json:"incident_id,omitempty"`
	Title        string     `json:"title"`
	Owner        string     `json:"owner,omitempty"`
	Due          *time.Time `json:"due,omitempty"`
	Status       string     `json:"status"`
	Link         string     `json:"link,omitempty"`
	Source       string     `json:"source"`
	Overdue      bool       `json:"overdue"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	NotifiedAt   *time.Time `json:"notified_at,omitempty"`
}

// IsOverdue reports whether the item is open with its due date passed at
// now (due dates are days: an item due 2026-11-25 is overdue from
// 2026-11-26 00:00 UTC).
func (a ActionItem) IsOverdue(now time.Time) bool {
	return a.Status == ItemOpen && a.Due != nil && !now.Before(a.Due.AddDate(0, 0, 1))
}
