// Package github is the part of the GitHub REST API client tandem needs:
// requests with the headers GitHub documents, errors that say whether a
// retry may help and when (Retry-After, x-ratelimit-reset), Link-header
// paging, and GitHub App installation tokens. The postmortem capability
// creates and finds issues with it; toil imports labelled issues; the gate
// capability posts check runs and deployment statuses (checks.go).
package github

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is the API root of github.com.
const DefaultBaseURL = "https://api.github.com"

// maxAnswer bounds the body of one answer (a page of 100 issues is far
// smaller).
const maxAnswer = 32 << 20

// Client calls the GitHub REST API. The zero value calls api.github.com
// anonymously.
type Client struct {
	// BaseURL is the API root: https://api.github.com (the default) or
	// https://HOST/api/v3 for GitHub Enterprise Server.
	BaseURL string
	// Token is sent as "Authorization: Bearer <token>"; empty calls
	// anonymously (public repositories only).
	Token string
	// Auth, when set, gives the token of each call instead of Token (a
	// GitHub App installation, a token read from a file).
	Auth TokenSource
	// HTTP is the client to use (default: one with a 30 s timeout).
	HTTP *http.Client
	// Now reads the clock for x-ratelimit-reset (default time.Now).
	Now func() time.Time
}

// TokenSource gives the token a call is authorised with. Its errors are
// returned by Client.Do as they are (an *Error says whether a retry may
// help).
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// Error is a failed call. Status is 0 when no answer came. Retryable says
// whether trying again later may succeed: network errors, 5xx, 429 and
// rate-limited 403s. Wait is how long GitHub asked the caller to hold off
// (Retry-After, or until x-ratelimit-reset when no request is left; a
// secondary rate limit without either waits a minute, as GitHub's
// documentation asks).
type Error struct {
	Status    int
	Message   string
	Retryable bool
	Wait      time.Duration
}

// RetryAfter is Wait: with it, the engine requeues a job for when GitHub
// allows the next request (engine.Deferral).
func (e *Error) RetryAfter() time.Duration { return e.Wait }

// Attempted is true when GitHub answered: a rate-limited retry spends an
// attempt, so a limit that never lifts cannot keep a job alive forever.
func (e *Error) Attempted() bool { return e.Status != 0 }

func (e *Error) Error() string {
	if e.Status == 0 {
		return "github: " + e.Message
	}
	return fmt.Sprintf("github: HTTP %d: %s", e.Status, e.Message)
}

// URL joins the API root and path ("/repos/…").
func (c *Client) URL(path string) string {
	base := strings.TrimRight(c.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	return base + path
}

// RepoPath returns "/repos/{owner}/{name}" for repo "owner/name", escaped.
func RepoPath(repo string) (string, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("want owner/name, got %q", repo)
	}
	return "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name), nil
}

// Do sends method to u (a full URL, from URL or a Link header) with body
// encoded as JSON when it is not nil, and decodes a 2xx answer into out
// when out is not nil. It returns the answer's headers. Every failure is
// an *Error.
func (c *Client) Do(ctx context.Context, method, u string, body, out any) (http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, &Error{Message: "encode request: " + err.Error()}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, &Error{Message: err.Error()}
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "tandem")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	token := c.Token
	if c.Auth != nil {
		if token, err = c.Auth.Token(ctx); err != nil {
			return nil, err
		}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err // "Post …: dial tcp …" says the URL twice
		}
		return nil, &Error{Message: err.Error(), Retryable: true}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, &Error{Status: resp.StatusCode, Message: "read answer: " + err.Error(), Retryable: true}
	}
	if resp.StatusCode >= 300 {
		var m struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &m)
		if m.Message == "" {
			m.Message = http.StatusText(resp.StatusCode)
		}
		now := time.Now
		if c.Now != nil {
			now = c.Now
		}
		wait := RateLimitWait(resp.StatusCode, resp.Header, m.Message, now())
		retry := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || wait > 0
		return nil, &Error{Status: resp.StatusCode, Message: m.Message, Retryable: retry, Wait: wait}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, &Error{Status: resp.StatusCode, Message: "unexpected answer: " + err.Error(), Retryable: true}
		}
	}
	return resp.Header, nil
}

// maxWait bounds a wait GitHub asks for (the primary limit resets within
// the hour).
const maxWait = time.Hour

// RateLimitWait is how long an answer of status with headers h and error
// message msg asks the caller to wait before the next request, or 0 when it
// is not a rate limit. GitHub documents: a Retry-After header gives the
// seconds to wait; with x-ratelimit-remaining 0, wait until
// x-ratelimit-reset (UTC epoch seconds); a secondary rate limit (a 403 or
// 429) without either waits at least one minute. The answer lies in [1s,
// 1h].
func RateLimitWait(status int, h http.Header, msg string, now time.Time) time.Duration {
	switch {
	case status == http.StatusForbidden || status == http.StatusTooManyRequests:
	case status >= 500 && h.Get("Retry-After") != "":
	default:
		return 0
	}
	clamp := func(d time.Duration) time.Duration { return min(max(d, time.Second), maxWait) }
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			return clamp(time.Duration(min(n, int64(maxWait/time.Second))) * time.Second)
		}
		if t, err := http.ParseTime(v); err == nil {
			return clamp(t.Sub(now))
		}
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		if n, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 10, 64); err == nil && n > 0 && n < 1<<40 {
			return clamp(time.Unix(n, 0).Sub(now))
		}
		return time.Minute
	}
	if strings.Contains(strings.ToLower(msg), "rate limit") {
		return time.Minute
	}
	return 0
}

var nextLink = regexp.MustCompile(`<([^>]+)>\s*;\s*rel="next"`)

// Next returns the rel="next" URL of an answer's Link header, or "" on the
// last page.
func Next(h http.Header) string {
	if m := nextLink.FindStringSubmatch(h.Get("Link")); m != nil {
		return m[1]
	}
	return ""
}
