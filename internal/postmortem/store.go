package postmortem

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
)

// Store keeps postmortems and action items.
type Store struct{ db *db.DB }

// NewStore returns a store on d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

// MaxMarkdown bounds a postmortem's Markdown.
const MaxMarkdown = 512 << 10

const pmCols = `id, incident_id, title, team, template, status, markdown, render_error, version, created_at, updated_at,
	published_at, published_version, file_path, github_issue_number, github_issue_url, github_attempted_at`

func scanPM(r interface{ Scan(...any) error }) (Postmortem, error) {
	var p Postmortem
	var created, updated, published, attempted int64
	err := r.Scan(&p.ID, &p.IncidentID, &p.Title, &p.Team, &p.Template, &p.Status, &p.Markdown, &p.RenderError, &p.Version,
		&created, &updated, &published, &p.PublishedVersion, &p.FilePath, &p.GitHubIssue, &p.GitHubIssueURL, &attempted)
	if err != nil {
		return Postmortem{}, err
	}
	p.CreatedAt, p.UpdatedAt = db.Time(created), db.Time(updated)
	if published != 0 {
		t := db.Time(published)
		p.PublishedAt = &t
	}
	p.githubAttemptedAt = db.Time(attempted)
	p.ActionItems = []ActionItem{}
	return p, nil
}

func pmNotFound(id int64) error { return tandem.Errorf(tandem.ENotFound, "no postmortem %d", id) }

// Create stores a new postmortem for its incident with the action items of
// its Markdown. When the incident has one already, that one is returned
// with created false and nothing is written.
func (s *Store) Create(ctx context.Context, p Postmortem, now time.Time) (Postmortem, bool, error) {
	var out Postmortem
	created := false
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO postmortems (incident_id, title, team, template, status, markdown, render_error, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT (incident_id) DO NOTHING RETURNING id`,
			p.IncidentID, p.Title, p.Team, p.Template, Draft, p.Markdown, p.RenderError, db.Millis(now), db.Millis(now)).Scan(&id)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			out, err = getPM(ctx, tx, "incident_id", p.IncidentID)
			return err
		case err != nil:
			return fmt.Errorf("insert postmortem: %w", err)
		}
		created = true
		out, err = getPM(ctx, tx, "id", id)
		if err != nil {
			return err
		}
		return syncItems(ctx, tx, &out, now)
	})
	if err != nil {
		return Postmortem{}, false, err
	}
	out, err = s.withItems(ctx, out, now)
	return out, created, err
}

func getPM(ctx context.Context, tx *db.Tx, col string, v int64) (Postmortem, error) {
	p, err := scanPM(tx.QueryRow(ctx, "SELECT "+pmCols+" FROM postmortems WHERE "+col+" = ?", v))
	if errors.Is(err, sql.ErrNoRows) {
		return Postmortem{}, pmNotFound(v)
	}
	return p, err
}

func (s *Store) withItems(ctx context.Context, p Postmortem, now time.Time) (Postmortem, error) {
	items, err := s.ListItems(ctx, ItemFilter{PostmortemID: p.ID}, now)
	if err != nil {
		return Postmortem{}, err
	}
	p.ActionItems = items
	return p, nil
}

// Get returns a postmortem with its action items.
func (s *Store) Get(ctx context.Context, id int64, now time.Time) (Postmortem, error) {
	p, err := scanPM(s.db.QueryRow(ctx, "SELECT "+pmCols+" FROM postmortems WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Postmortem{}, pmNotFound(id)
	}
	if err != nil {
		return Postmortem{}, fmt.Errorf("get postmortem: %w", err)
	}
	return s.withItems(ctx, p, now)
}

// ByIncident returns the incident's postmortem (not_found when none).
func (s *Store) ByIncident(ctx context.Context, incidentID int64, now time.Time) (Postmortem, error) {
	p, err := scanPM(s.db.QueryRow(ctx, "SELECT "+pmCols+" FROM postmortems WHERE incident_id = ?", incidentID))
	if errors.Is(err, sql.ErrNoRows) {
		return Postmortem{}, tandem.Errorf(tandem.ENotFound, "incident %d has no postmortem", incidentID)
	}
	if err != nil {
		return Postmortem{}, fmt.Errorf("get postmortem: %w", err)
	}
	return s.withItems(ctx, p, now)
}

// Filter selects postmortems.
type Filter struct {
	Status string
	Team   string
	Limit  int // default 100
}

// List returns postmortems newest first, without their Markdown's action
// items (Get has them).
func (s *Store) List(ctx context.Context, f Filter) ([]Postmortem, error) {
	q := "SELECT " + pmCols + " FROM postmortems"
	var where []string
	var args []any
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.Team != "" {
		where, args = append(where, "team = ?"), append(args, f.Team)
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > 10000 {
		limit = 100
	}
	q += fmt.Sprintf(" ORDER BY created_at DESC, id DESC LIMIT %d", limit)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list postmortems: %w", err)
	}
	defer rows.Close()
	out := []Postmortem{}
	for rows.Next() {
		p, err := scanPM(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Update is a change to a postmortem; nil fields stay.
type Update struct {
	Markdown *string `json:"markdown,omitempty"`
	Status   *string `json:"status,omitempty"`
}

// Save applies u in one transaction: new Markdown (version+1, action items
// re-read from it) and a new status. When the status becomes published,
// onPublish runs in the same transaction (to enqueue the publishing job).
func (s *Store) Save(ctx context.Context, id int64, u Update, now time.Time, onPublish func(tx *db.Tx, p Postmortem) error) (Postmortem, error) {
	if u.Markdown == nil && u.Status == nil {
		return Postmortem{}, tandem.Errorf(tandem.EInvalid, "nothing to change: give markdown and/or status")
	}
	if u.Markdown != nil {
		if strings.TrimSpace(*u.Markdown) == "" {
			return Postmortem{}, tandem.FieldErrorf("markdown", "must not be empty")
		}
		if len(*u.Markdown) > MaxMarkdown {
			return Postmortem{}, tandem.FieldErrorf("markdown", "at most %d bytes", MaxMarkdown)
		}
	}
	var status string
	if u.Status != nil {
		st, err := ParseStatus(*u.Status)
		if err != nil {
			return Postmortem{}, err
		}
		status = st
	}
	var out Postmortem
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		p, err := getPM(ctx, tx, "id", id)
		if err != nil {
			return err
		}
		before := p.Status
		if u.Markdown != nil && *u.Markdown != p.Markdown {
			p.Markdown = *u.Markdown
			p.Version++
			p.RenderError = ""
		}
		if status != "" {
			p.Status = status
		}
		_, err = tx.Exec(ctx, `UPDATE postmortems SET markdown = ?, version = ?, status = ?, render_error = ?, updated_at = ? WHERE id = ?`,
			p.Markdown, p.Version, p.Status, p.RenderError, db.Millis(now), p.ID)
		if err != nil {
			return fmt.Errorf("save postmortem: %w", err)
		}
		p.UpdatedAt = db.Time(db.Millis(now))
		if u.Markdown != nil {
			if err := syncItems(ctx, tx, &p, now); err != nil {
				return err
			}
		}
		if p.Status == Published && (before != Published || u.Markdown != nil) && onPublish != nil {
			if err := onPublish(tx, p); err != nil {
				return err
			}
		}
		out = p
		return nil
	})
	if err != nil {
		return Postmortem{}, err
	}
	return s.withItems(ctx, out, now)
}

// syncItems makes the postmortem's "postmortem" action items match the
// checklist of its Markdown: lines matched by title update their item
// (owner, due, link, done/open), new lines add items, and items whose line
// is gone are deleted. Items added by hand are never touched.
func syncItems(ctx context.Context, tx *db.Tx, p *Postmortem, now time.Time) error {
	parsed := ParseActionItems(p.Markdown)
	rows, err := tx.Query(ctx, `SELECT id, title FROM action_items WHERE postmortem_id = ? AND source = 'postmortem'`, p.ID)
	if err != nil {
		return fmt.Errorf("action items: %w", err)
	}
	existing := map[string]int64{}
	for rows.Next() {
		var id int64
		var title string
		if err := rows.Scan(&id, &title); err != nil {
			rows.Close()
			return err
		}
		existing[itemKey(title)] = id
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	ms := db.Millis(now)
	seen := map[string]bool{}
	for _, it := range parsed {
		k := itemKey(it.Title)
		if seen[k] {
			continue
		}
		seen[k] = true
		status := ItemOpen
		if it.Done {
			status = ItemDone
		}
		var due int64
		if it.Due != nil {
			due = db.Millis(*it.Due)
		}
		if id, ok := existing[k]; ok {
			_, err = tx.Exec(ctx, `UPDATE action_items SET title = ?, owner = ?, due = ?, status = ?, link = ?, updated_at = ? WHERE id = ?`,
				it.Title, it.Owner, due, status, it.Link, ms, id)
		} else {
			_, err = tx.Exec(ctx, `INSERT INTO action_items (postmortem_id, incident_id, title, owner, due, status, link, source, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, 'postmortem', ?, ?)`, p.ID, p.IncidentID, it.Title, it.Owner, due, status, it.Link, ms, ms)
		}
		if err != nil {
			return fmt.Errorf("action item: %w", err)
		}
	}
	for k, id := range existing {
		if !seen[k] {
			if _, err := tx.Exec(ctx, `DELETE FROM action_items WHERE id = ?`, id); err != nil {
				return fmt.Errorf("action item: %w", err)
			}
		}
	}
	return nil
}

// MarkGitHubAttempt records that a GitHub issue is about to be created, so
// a retry after an unclear failure searches before creating.
func (s *Store) MarkGitHubAttempt(ctx context.Context, id int64, now time.Time) error {
	_, err := s.db.Exec(ctx, `UPDATE postmortems SET github_attempted_at = ? WHERE id = ? AND github_attempted_at = 0`, db.Millis(now), id)
	return err
}

// SetGitHubIssue records the created issue.
func (s *Store) SetGitHubIssue(ctx context.Context, id, number int64, url string) error {
	_, err := s.db.Exec(ctx, `UPDATE postmortems SET github_issue_number = ?, github_issue_url = ? WHERE id = ?`, number, url, id)
	return err
}

// SetPublished records a finished publication of version.
func (s *Store) SetPublished(ctx context.Context, id int64, version int, filePath string, now time.Time) error {
	_, err := s.db.Exec(ctx, `UPDATE postmortems SET published_at = ?, published_version = ?, file_path = CASE WHEN ? = '' THEN file_path ELSE ? END WHERE id = ?`,
		db.Millis(now), version, filePath, filePath, id)
	return err
}

const itemCols = `id, postmortem_id, incident_id, title, owner, due, status, link, source, created_at, updated_at, notified_at`

func scanItem(r interface{ Scan(...any) error }, now time.Time) (ActionItem, error) {
	var a ActionItem
	var due, created, updated, notified int64
	if err := r.Scan(&a.ID, &a.PostmortemID, &a.IncidentID, &a.Title, &a.Owner, &due, &a.Status, &a.Link, &a.Source, &created, &updated, &notified); err != nil {
		return ActionItem{}, err
	}
	if due != 0 {
		t := db.Time(due)
		a.Due = &t
	}
	if notified != 0 {
		t := db.Time(notified)
		a.NotifiedAt = &t
	}
	a.CreatedAt, a.UpdatedAt = db.Time(created), db.Time(updated)
	a.Overdue = a.IsOverdue(now)
	return a, nil
}

// ItemFilter selects action items.
type ItemFilter struct {
	PostmortemID int64
	Owner        string
	Status       string
	Overdue      bool // open and past due at now
}

// ListItems returns action items by due date (undated last), then id.
func (s *Store) ListItems(ctx context.Context, f ItemFilter, now time.Time) ([]ActionItem, error) {
	q := "SELECT " + itemCols + " FROM action_items"
	var where []string
	var args []any
	if f.PostmortemID != 0 {
		where, args = append(where, "postmortem_id = ?"), append(args, f.PostmortemID)
	}
	if f.Owner != "" {
		where, args = append(where, "owner = ?"), append(args, strings.TrimPrefix(f.Owner, "@"))
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.Overdue {
		// Due dates are days: overdue from the day after.
		where, args = append(where, "status = 'open' AND due <> 0 AND due <= ?"), append(args, db.Millis(now.AddDate(0, 0, -1)))
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY CASE WHEN due = 0 THEN 1 ELSE 0 END, due, id"
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list action items: %w", err)
	}
	defer rows.Close()
	out := []ActionItem{}
	for rows.Next() {
		a, err := scanItem(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// NewItem is an action item added by hand.
type NewItem struct {
	Title        string `json:"title"`
	Owner        string `json:"owner,omitempty"`
	Due          string `json:"due,omitempty"` // YYYY-MM-DD
	Link         string `json:"link,omitempty"`
	IncidentID   int64  `json:"incident_id,omitempty"`
	PostmortemID int64  `json:"postmortem_id,omitempty"`
}

// ParseDue reads a due date "YYYY-MM-DD" ("" is none).
func ParseDue(s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return nil, tandem.FieldErrorf("due", "want a date YYYY-MM-DD, got %q", s)
	}
	return &t, nil
}

// AddItem stores an action item added by hand.
func (s *Store) AddItem(ctx context.Context, n NewItem, now time.Time) (ActionItem, error) {
	n.Title = strings.TrimSpace(n.Title)
	if n.Title == "" {
		return ActionItem{}, tandem.FieldErrorf("title", "required")
	}
	if len(n.Title) > 500 {
		return ActionItem{}, tandem.FieldErrorf("title", "at most 500 characters")
	}
	due, err := ParseDue(n.Due)
	if err != nil {
		return ActionItem{}, err
	}
	var dueMs int64
	if due != nil {
		dueMs = db.Millis(*due)
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if n.PostmortemID != 0 {
			p, err := getPM(ctx, tx, "id", n.PostmortemID)
			if err != nil {
				return &tandem.Error{Code: tandem.EUnprocessable, Field: "postmortem_id", Message: tandem.ErrorMessage(err)}
			}
			n.IncidentID = p.IncidentID
		} else if n.IncidentID != 0 {
			var one int
			err := tx.QueryRow(ctx, "SELECT 1 FROM incidents WHERE id = ?", n.IncidentID).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return &tandem.Error{Code: tandem.EUnprocessable, Field: "incident_id", Message: fmt.Sprintf("no incident %d", n.IncidentID)}
			}
			if err != nil {
				return fmt.Errorf("check incident: %w", err)
			}
		}
		return tx.QueryRow(ctx, `INSERT INTO action_items (postmortem_id, incident_id, title, owner, due, status, link, source, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 'open', ?, 'manual', ?, ?) RETURNING id`,
			n.PostmortemID, n.IncidentID, n.Title, strings.TrimPrefix(n.Owner, "@"), dueMs, n.Link, db.Millis(now), db.Millis(now)).Scan(&id)
	})
	if err != nil {
		return ActionItem{}, err
	}
	return s.GetItem(ctx, id, now)
}

// GetItem returns one action item.
func (s *Store) GetItem(ctx context.Context, id int64, now time.Time) (ActionItem, error) {
	a, err := scanItem(s.db.QueryRow(ctx, "SELECT "+itemCols+" FROM action_items WHERE id = ?", id), now)
	if errors.Is(err, sql.ErrNoRows) {
		return ActionItem{}, tandem.Errorf(tandem.ENotFound, "no action item %d", id)
	}
	return a, err
}

// ItemUpdate changes an action item; nil fields stay.
type ItemUpdate struct {
	Status *string `json:"status,omitempty"`
	Owner  *string `json:"owner,omitempty"`
	Due    *string `json:"due,omitempty"`
	Link   *string `json:"link,omitempty"`
	Title  *string `json:"title,omitempty"`
}

// UpdateItem changes an item. For an item from a postmortem, a status
// change also ticks or clears its checkbox in the postmortem's Markdown (a
// new version), so the two never disagree; its other fields live in the
// Markdown and are changed there.
func (s *Store) UpdateItem(ctx context.Context, id int64, u ItemUpdate, now time.Time) (ActionItem, error) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		a, err := scanItem(tx.QueryRow(ctx, "SELECT "+itemCols+" FROM action_items WHERE id = ?", id), now)
		if errors.Is(err, sql.ErrNoRows) {
			return tandem.Errorf(tandem.ENotFound, "no action item %d", id)
		}
		if err != nil {
			return err
		}
		if a.Source == "postmortem" && (u.Owner != nil || u.Due != nil || u.Link != nil || u.Title != nil) {
			return tandem.Errorf(tandem.EConflict, "action item %d comes from postmortem %d: edit its line in the postmortem's Markdown (only its status can be set here)", id, a.PostmortemID)
		}
		if u.Status != nil {
			if *u.Status != ItemOpen && *u.Status != ItemDone {
				return tandem.FieldErrorf("status", "want open or done, got %q", *u.Status)
			}
			a.Status = *u.Status
		}
		if u.Owner != nil {
			a.Owner = strings.TrimPrefix(*u.Owner, "@")
		}
		if u.Due != nil {
			d, err := ParseDue(*u.Due)
			if err != nil {
				return err
			}
			a.Due = d
		}
		if u.Link != nil {
			a.Link = *u.Link
		}
		if u.Title != nil {
			if strings.TrimSpace(*u.Title) == "" {
				return tandem.FieldErrorf("title", "must not be empty")
			}
			a.Title = strings.TrimSpace(*u.Title)
		}
		var due int64
		if a.Due != nil {
			due = db.Millis(*a.Due)
		}
		if _, err := tx.Exec(ctx, `UPDATE action_items SET title = ?, owner = ?, due = ?, status = ?, link = ?, updated_at = ? WHERE id = ?`,
			a.Title, a.Owner, due, a.Status, a.Link, db.Millis(now), id); err != nil {
			return err
		}
		if a.Source == "postmortem" && u.Status != nil {
			p, err := getPM(ctx, tx, "id", a.PostmortemID)
			if err != nil {
				return err
			}
			if md, changed := SetChecked(p.Markdown, a.Title, a.Status == ItemDone); changed {
				if _, err := tx.Exec(ctx, `UPDATE postmortems SET markdown = ?, version = version + 1, updated_at = ? WHERE id = ?`, md, db.Millis(now), p.ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return ActionItem{}, err
	}
	return s.GetItem(ctx, id, now)
}

// MarkNotified records that the owner was told about the overdue item.
func (s *Store) MarkNotified(ctx context.Context, id int64, now time.Time) error {
	_, err := s.db.Exec(ctx, `UPDATE action_items SET notified_at = ? WHERE id = ?`, db.Millis(now), id)
	return err
}
