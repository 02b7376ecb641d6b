package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// sendEmail delivers m to c.To over SMTP: STARTTLS first when SMTP.StartTLS
// is set (a server that does not offer it fails the send), then AUTH PLAIN
// when a username is configured (never over an unencrypted connection to a
// remote host).
func (s *Sender) sendEmail(ctx context.Context, c Channel, m Message) error {
	s.mu.Lock()
	cfg := s.smtp
	s.mu.Unlock()
	if cfg.Addr == "" {
		return &Error{Channel: Email, Message: "no smtp server configured", Permanent: true}
	}
	if c.To == "" || strings.ContainsAny(c.To, "\r\n") {
		return &Error{Channel: Email, Message: "bad recipient address", Permanent: true}
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return &Error{Channel: Email, Message: "bad smtp address", Permanent: true}
	}
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(30 * time.Second)
	}
	dialer := &net.Dialer{Deadline: dl}
	conn, err := dialer.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return &Error{Channel: Email, Message: "connect: " + err.Error()}
	}
	_ = conn.SetDeadline(dl)
	var cl *smtp.Client
	tlsOn := false
	if cfg.StartTLS {
		name := cfg.TLSServerName
		if name == "" {
			name = host
		}
		cl, err = smtp.NewClientStartTLS(conn, &tls.Config{ServerName: name, InsecureSkipVerify: cfg.InsecureSkipVerify, MinVersion: tls.VersionTLS12})
		if err != nil {
			conn.Close()
			return smtpErr("starttls", err)
		}
		tlsOn = true
	} else {
		cl = smtp.NewClient(conn)
		if err := cl.Hello("tandem"); err != nil {
			cl.Close()
			return smtpErr("hello", err)
		}
	}
	defer cl.Close()
	if cfg.Username != "" {
		if !tlsOn && !isLoopback(host) {
			return &Error{Channel: Email, Message: "refusing to send credentials without TLS", Permanent: true}
		}
		if err := cl.Auth(sasl.NewPlainClient("", cfg.Username, cfg.Password)); err != nil {
			return smtpErr("auth", err)
		}
	}
	if err := cl.Mail(cfg.From, nil); err != nil {
		return smtpErr("mail from", err)
	}
	if err := cl.Rcpt(c.To, nil); err != nil {
		return smtpErr("rcpt to", err)
	}
	w, err := cl.Data()
	if err != nil {
		return smtpErr("data", err)
	}
	if _, err := w.Write(EmailBody(cfg.From, c.To, m)); err != nil {
		return smtpErr("data", err)
	}
	if err := w.Close(); err != nil {
		return smtpErr("data", err)
	}
	_ = cl.Quit()
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func smtpErr(stage string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return &Error{Channel: Email, Status: se.Code, Message: stage + ": " + se.Message, Permanent: se.Code >= 500}
	}
	return &Error{Channel: Email, Message: stage + ": " + err.Error()}
}

// headerSafe drops line breaks so a value cannot add headers.
func headerSafe(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// EmailBody renders m as an RFC 5322 plain-text message.
func EmailBody(from, to string, m Message) []byte {
	var b strings.Builder
	subject := m.Title
	if m.Severity != "" {
		subject = "[" + strings.ToUpper(m.Severity) + "] " + subject
	}
	h := textproto.MIMEHeader{}
	h.Set("From", headerSafe(from))
	h.Set("To", headerSafe(to))
	h.Set("Subject", headerSafe(subject))
	h.Set("Date", m.SentAt.UTC().Format(time.RFC1123Z))
	h.Set("Message-Id", "<"+headerSafe(m.DeliveryID)+"@tandem>")
	h.Set("Mime-Version", "1.0")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	for _, k := range []string{"From", "To", "Subject", "Date", "Message-Id", "Mime-Version", "Content-Type"} {
		fmt.Fprintf(&b, "%s: %s\r\n", k, h.Get(k))
	}
	b.WriteString("\r\n")
	line := func(s string) { b.WriteString(strings.ReplaceAll(s, "\n", "\r\n") + "\r\n") }
	line(m.Title)
	if m.Text != "" {
		line("")
		line(m.Text)
	}
	line("")
	if m.Service != "" {
		line("Service: " + m.Service)
	}
	if m.Status != "" {
		line("Status: " + m.Status)
	}
	if m.AckURL != "" {
		line("Acknowledge: " + m.AckURL)
	}
	if m.ResolveURL != "" {
		line("Resolve: " + m.ResolveURL)
	}
	if m.URL != "" {
		line("Open: " + m.URL)
	}
	return []byte(b.String())
}
