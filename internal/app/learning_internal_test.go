package app

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/notify"
	"github.com/tandemhq/tandem/internal/postmortem"
)

// mailbox is an in-process SMTP server on the loopback address that keeps
// every message.
type mailbox struct {
	mu   sync.Mutex
	to   []string
	data []string
}

func (b *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{b: b}, nil }

type mailSession struct {
	b  *mailbox
	to string
}

func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = to
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.to = append(s.b.to, s.to)
	s.b.data = append(s.b.data, string(b))
	return nil
}
func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }

func TestOwnerNotifierEmailsOverdueItem(t *testing.T) {
	box := &mailbox{}
	srv := smtp.NewServer(box)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })

	cat := catalog.New(nil, []catalog.Person{{Name: "bob", Email: "bob@example.com"}, {Name: "noemail"}}, nil, nil)
	cfg := notify.SMTP{Addr: ln.Addr().String(), From: "tandem@example.com"}
	n := &ownerNotifier{catalog: func() *catalog.Catalog { return cat }, clock: clock.NewFake(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)),
		sender: notify.NewSender(cfg, nil), smtp: func() notify.SMTP { return cfg }}
	due := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	if err := n.NotifyOwner(ctx, postmortem.ActionItem{ID: 3, Title: "Add lag alert", Owner: "bob", Due: &due}, "DB down"); err != nil {
		t.Fatal(err)
	}
	if err := n.NotifyOwner(ctx, postmortem.ActionItem{ID: 4, Title: "x", Owner: "noemail", Due: &due}, ""); err != nil {
		t.Fatal(err)
	}
	box.mu.Lock()
	defer box.mu.Unlock()
	if len(box.to) != 1 || box.to[0] != "bob@example.com" {
		t.Fatalf("sent to %v", box.to)
	}
	if msg := box.data[0]; !strings.Contains(msg, "Overdue action item: Add lag alert") || !strings.Contains(msg, "2026-11-20") || !strings.Contains(msg, "tandem actions done 3") {
		t.Errorf("message:\n%s", msg)
	}
}
