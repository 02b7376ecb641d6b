package chatops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/notify"
)

// DefaultStatuspageURL is Atlassian Statuspage's API root.
const DefaultStatuspageURL = "https://api.statuspage.io"

// statusUpdate reads the incident and one of its status updates.
func (s *Service) statusUpdate(ctx context.Context, p eventPayload) (incident.Incident, []incident.StatusUpdate, error) {
	inc, err := s.Incidents.Get(ctx, p.Incident)
	if err != nil {
		return inc, nil, engine.Permanent(err)
	}
	tl, err := s.Incidents.Timeline(ctx, p.Incident)
	if err != nil {
		return inc, nil, err
	}
	var ups []incident.StatusUpdate
	for _, e := range tl {
		if u, ok := incident.StatusUpdateOf(e); ok {
			ups = append(ups, u)
		}
	}
	return inc, ups, nil
}

// runStatusWebhook posts one status update to the generic status webhook:
// tandem's webhook JSON (event incident.status_update, the update's status
// and message), signed like every tandem webhook and with the job key as
// its delivery id.
func (s *Service) runStatusWebhook(ctx context.Context, j engine.Job) error {
	var p eventPayload
	if err := decodePayload(j, &p); err != nil {
		return err
	}
	set := s.settings()
	if set.StatusWebhookURL == "" {
		return nil
	}
	inc, ups, err := s.statusUpdate(ctx, p)
	if err != nil {
		return err
	}
	for _, u := range ups {
		if u.EventID != p.Event {
			continue
		}
		m := notify.Message{DeliveryID: j.Key, Event: "incident.status_update", Title: inc.Title, Text: u.Message, Severity: inc.Severity,
			Service: strings.Join(inc.Services, ", "), IncidentID: inc.ID, Status: u.Status, SentAt: s.Clock.Now().UTC(),
			Fields: map[string]string{"incident_status": inc.Status}}
		if base := strings.TrimRight(set.BaseURL, "/"); base != "" {
			m.URL = fmt.Sprintf("%s/incidents/%d", base, inc.ID)
		}
		err := s.Sender.Send(ctx, notify.Channel{Type: notify.Webhook, URL: set.StatusWebhookURL, Secret: set.StatusWebhookSecret}, m)
		var ne *notify.Error
		if errors.As(err, &ne) && ne.Permanent {
			return engine.Permanent(err)
		}
		return err
	}
	return nil
}

// runStatuspage brings the incident's Statuspage incident up to date: the
// first update creates it (POST /v1/pages/{page_id}/incidents), each later
// one updates it (PATCH …/incidents/{id}), in the order they were posted.
// One job at a time works on an incident (a lease in the database), so two
// quick updates cannot create two Statuspage incidents; a job that finds
// the lease taken comes back in two seconds without spending an attempt.
func (s *Service) runStatuspage(ctx context.Context, j engine.Job) error {
	var p eventPayload
	if err := decodePayload(j, &p); err != nil {
		return err
	}
	set := s.settings()
	sp := set.Statuspage
	if sp.PageID == "" {
		return nil
	}
	now := s.Clock.Now()
	st, ok, err := s.leaseStatuspage(ctx, p.Incident, now, now.Add(time.Minute))
	if err != nil {
		return err
	}
	if !ok {
		return &notify.Error{Channel: "statuspage", HeldFor: 2 * time.Second, Message: "another job is updating this incident's status page"}
	}
	defer func() {
		if err := s.releaseStatuspage(context.WithoutCancel(ctx), p.Incident); err != nil {
			s.Log.Warn("statuspage: releasing the lease failed; it expires in a minute", "incident", p.Incident, "err", err)
		}
	}()
	inc, ups, err := s.statusUpdate(ctx, p)
	if err != nil {
		return err
	}
	c := statuspageClient{base: sp.APIURL, key: sp.APIKey, page: sp.PageID, http: s.HTTP}
	for _, u := range ups {
		if u.EventID <= st.SentThrough {
			continue
		}
		if st.PageIncidentID == "" {
			id, err := c.create(ctx, inc.Title, u.Status, u.Message, sp.ComponentIDs)
			if err != nil {
				return spErr(err)
			}
			st.PageIncidentID = id
		} else if err := c.update(ctx, st.PageIncidentID, u.Status, u.Message); err != nil {
			return spErr(err)
		}
		st.SentThrough = u.EventID
		if err := s.saveStatuspage(ctx, p.Incident, st); err != nil {
			return err
		}
	}
	return nil
}

func spErr(err error) error {
	var ne *notify.Error
	if errors.As(err, &ne) && ne.Permanent {
		return engine.Permanent(err)
	}
	return err
}

// statuspageClient makes the two Statuspage incident calls tandem needs.
type statuspageClient struct {
	base, key, page string
	http            *http.Client
}

func (c statuspageClient) do(ctx context.Context, method, path string, body any) ([]byte, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, &notify.Error{Channel: "statuspage", Message: err.Error(), Permanent: true}
	}
	base := c.base
	if base == "" {
		base = DefaultStatuspageURL
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(base, "/")+path, bytes.NewReader(raw))
	if err != nil {
		return nil, &notify.Error{Channel: "statuspage", Message: "bad API URL", Permanent: true}
	}
	req.Header.Set("Authorization", "OAuth "+c.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tandem")
	hc := c.http
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &notify.Error{Channel: "statuspage", Message: strings.ReplaceAll(err.Error(), c.key, "<key>")}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return b, nil
	}
	e := &notify.Error{Channel: "statuspage", Status: resp.StatusCode, Message: strings.TrimSpace(string(b[:min(len(b), 300)]))}
	switch {
	case resp.StatusCode == 420 || resp.StatusCode == http.StatusTooManyRequests:
		// Statuspage allows one request a second per key and answers 420
		// or 429 beyond it.
		e.HeldFor = 2 * time.Second
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
			e.HeldFor = min(time.Duration(secs)*time.Second, 10*time.Minute)
		}
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout:
		e.Permanent = true
	}
	return nil, e
}

func (c statuspageClient) create(ctx context.Context, name, status, body string, components []string) (string, error) {
	in := map[string]any{"name": name, "status": status, "body": body}
	if len(components) > 0 {
		in["component_ids"] = components
	}
	b, err := c.do(ctx, http.MethodPost, "/v1/pages/"+url.PathEscape(c.page)+"/incidents", map[string]any{"incident": in})
	if err != nil {
		return "", err
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.ID == "" {
		return "", &notify.Error{Channel: "statuspage", Message: "created incident has no id"}
	}
	return out.ID, nil
}

func (c statuspageClient) update(ctx context.Context, id, status, body string) error {
	_, err := c.do(ctx, http.MethodPatch, "/v1/pages/"+url.PathEscape(c.page)+"/incidents/"+url.PathEscape(id),
		map[string]any{"incident": map[string]any{"status": status, "body": body}})
	return err
}
