// Package client is the Go client for tandem's HTTP API. The tandem CLI uses
// it for every command that talks to a server, and CI tools may import it.
//
//	c, err := client.New("https://tandem.example.com", os.Getenv("TANDEM_TOKEN"))
//	services, err := c.Services(ctx)
//
// Every type the client takes or returns is its own (ChangeEvent,
// DORAReport, Incident, …) or the root package's tandem.Error: each is the
// JSON of its endpoint field for field, a value the server cannot compute
// being a nil pointer, so a module other than tandem can build every
// argument and read every answer.
//
// Errors from the server come back as *tandem.Error with the server's code,
// message and field; a server that cannot be reached is code "unavailable".
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
)

// Client talks to one tandem server. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	token     string
	http      *http.Client
	userAgent string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient replaces the default HTTP client (30 s timeout).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client for the server at baseURL, authenticating with token
// (which may be empty for servers with public reads).
func New(baseURL, token string, opts ...Option) (*Client, error) {
	if baseURL == "" {
		return nil, tandem.Errorf(tandem.EInvalid, "no server URL: set TANDEM_URL or --url")
	}
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, tandem.Errorf(tandem.EInvalid, "server URL %q: want http(s)://host[:port]", baseURL)
	}
	c := &Client{base: u, token: token, http: &http.Client{Timeout: 30 * time.Second}, userAgent: "tandem-client"}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Do sends a request to path (relative to the server, e.g. "/api/v1/services")
// with query parameters and a JSON body (nil for none), and decodes a JSON
// answer into out (nil to discard it; an io.Writer receives the raw body).
//
// An error answer comes back as the server's *tandem.Error (code, message,
// field, details). A server that cannot be reached, or a proxy's 502/503/504
// without a tandem error body, is an *tandem.Error with code unavailable;
// any other non-tandem error answer is code internal. A cancelled ctx
// returns ctx.Err().
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + path
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &tandem.Error{Code: tandem.EUnavailable, Message: fmt.Sprintf("cannot reach tandem at %s: %v", c.base, unwrapURLError(err))}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return &tandem.Error{Code: tandem.EUnavailable, Message: fmt.Sprintf("read answer from %s: %v", c.base, err)}
	}
	if resp.StatusCode >= 300 {
		var eb struct {
			Error *tandem.Error `json:"error"`
		}
		if json.Unmarshal(data, &eb) == nil && eb.Error != nil && eb.Error.Code != "" {
			return eb.Error
		}
		code := tandem.EInternal
		if resp.StatusCode >= 502 && resp.StatusCode <= 504 {
			code = tandem.EUnavailable
		}
		return &tandem.Error{Code: code, Message: fmt.Sprintf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(data[:min(len(data), 200)])))}
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if w, ok := out.(io.Writer); ok {
		_, err := w.Write(data)
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer of %s %s: %w", method, path, err)
	}
	return nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// List is the envelope of list answers.
type List[T any] struct {
	Items []T `json:"items"`
	Count int `json:"count"`
}

// Services lists the catalog's services.
func (c *Client) Services(ctx context.Context) ([]Service, error) {
	var out List[Service]
	err := c.Do(ctx, http.MethodGet, "/api/v1/services", nil, nil, &out)
	return out.Items, err
}

// Service returns one service; an unknown name is a not_found *tandem.Error.
func (c *Client) Service(ctx context.Context, name string) (Service, error) {
	var out Service
	err := c.Do(ctx, http.MethodGet, "/api/v1/services/"+url.PathEscape(name), nil, nil, &out)
	return out, err
}

// Teams lists the catalog's teams.
func (c *Client) Teams(ctx context.Context) ([]Team, error) {
	var out List[Team]
	err := c.Do(ctx, http.MethodGet, "/api/v1/teams", nil, nil, &out)
	return out.Items, err
}

// People lists the catalog's people.
func (c *Client) People(ctx context.Context) ([]Person, error) {
	var out List[Person]
	err := c.Do(ctx, http.MethodGet, "/api/v1/people", nil, nil, &out)
	return out.Items, err
}

// Tools returns the tool-ownership table.
func (c *Client) Tools(ctx context.Context) ([]OwnershipRow, error) {
	var out List[OwnershipRow]
	err := c.Do(ctx, http.MethodGet, "/api/v1/tools", nil, nil, &out)
	return out.Items, err
}

// Reload asks the server to reload its config (admin scope).
func (c *Client) Reload(ctx context.Context) error {
	return c.Do(ctx, http.MethodPost, "/api/v1/admin/reload", nil, nil, nil)
}
