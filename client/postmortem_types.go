package client

import (
	"time"
)

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
}

// PostmortemUpdate is a change to a postmortem; nil fields stay.
type PostmortemUpdate struct {
	Markdown *string `json:"markdown,omitempty"`
	Status   *string `json:"status,omitempty"`
}

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

// NewActionItem is an action item added by hand.
type NewActionItem struct {
	Title string `json:"title"`
	Owner string `json:"owner,omitempty"`
	// YYYY-MM-DD
	Due          string `json:"due,omitempty"`
	Link         string `json:"link,omitempty"`
	IncidentID   int64  `json:"incident_id,omitempty"`
	PostmortemID int64  `json:"postmortem_id,omitempty"`
}

// ActionItemUpdate changes an action item; nil fields stay.
type ActionItemUpdate struct {
	Status *string `json:"status,omitempty"`
	Owner  *string `json:"owner,omitempty"`
	Due    *string `json:"due,omitempty"`
	Link   *string `json:"link,omitempty"`
	Title  *string `json:"title,omitempty"`
}
