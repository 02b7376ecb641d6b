// Package github is the part of the GitHub REST API client tandem needs:
// requests with the headers GitHub documents, errors that say whether a
// retry may help, and Link-header paging. The postmortem capability
// creates and finds issues with it; toil imports labelled issues.
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
	// HTTP is the client to use (default: one with a 30 s timeout).
	HTTP *http.Client
}

// Error is a failed call. Status is 0 when no answer came. Retryable says
// whether trying again later may succeed: network errors, 5xx, 429 and
// rate-limited 403s.
type Error struct {
	Status    int
	Message   string
	Retryable bool
}

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
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
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
		retry := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests ||
			(resp.StatusCode == http.StatusForbidden && resp.Header.Get("X-RateLimit-Remaining") == "0")
		return nil, &Error{Status: resp.StatusCode, Message: m.Message, Retryable: retry}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, &Error{Status: resp.StatusCode, Message: "unexpected answer: " + err.Error(), Retryable: true}
		}
	}
	return resp.Header, nil
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
