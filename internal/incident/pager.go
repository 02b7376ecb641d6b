package incident

import (
	"context"
	"errors"
	"time"

	"github.com/tandemhq/tandem/internal/notify"
	"github.com/tandemhq/tandem/internal/oncall"
)

// Page is one delivery a Pager makes: the incident as it is now, who is
// paged by which contact method, and the message with its signed links.
type Page struct {
	Incident Incident
	Person   string
	Method   oncall.ContactMethod
	Message  notify.Message
	// DeliveryID is the page job's key: the same on every retry.
	DeliveryID string
	Attempt    int
	// RunAt is when the page job was due.
	RunAt time.Time
}

// A Pager delivers pages by one type of contact method that the manager
// does not send through its notify.Sender (SMS and voice calls, a Slack
// app). It runs inside the page job: nil means the provider accepted the
// page; a *notify.Error with HeldFor and no Status means "not tried, come
// back then" (a rate limit); engine.Permanent or a permanent *notify.Error
// stops the retries; any other error is retried with backoff. ErrNotHandled
// leaves the page to the manager's own channels.
type Pager interface {
	Page(ctx context.Context, p Page) error
}

// PagerFunc is a function that is a Pager.
type PagerFunc func(ctx context.Context, p Page) error

// Page calls f.
func (f PagerFunc) Page(ctx context.Context, p Page) error { return f(ctx, p) }

// ErrNotHandled is what a Pager returns for a page it leaves to the
// manager's own channels (the Slack app is not configured: the incoming
// webhook takes the page).
var ErrNotHandled = errors.New("pager does not handle this page")

// SetPager makes p deliver the pages of contact methods of type
// contactType (nil removes it).
func (m *Manager) SetPager(contactType string, p Pager) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pagers == nil {
		m.pagers = map[string]Pager{}
	}
	if p == nil {
		delete(m.pagers, contactType)
		return
	}
	m.pagers[contactType] = p
}

func (m *Manager) pager(contactType string) Pager {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.pagers[contactType]
}
