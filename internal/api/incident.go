package api

import (
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/notify"
)

// IncidentDeps is what the incidents, inbound alerts, notifications and the job engine endpoints need.
type IncidentDeps struct {
	Manager *incident.Manager
	Engine  *engine.Engine
	// Settings returns the live incident settings (mapping, action key).
	Settings func() incident.Settings
}

// incidentRoutes registers the incidents, inbound alerts, notifications and the job engine endpoints.
func (s *Server) incidentRoutes(mux *http.ServeMux) {
	if s.Incident.Manager == nil {
		return
	}
	s.handle(mux, "GET /api/v1/incidents", auth.ScopeRead, s.listIncidents)
	s.handle(mux, "POST /api/v1/incidents", auth.ScopeWrite, s.openIncident)
	s.handle(mux, "GET /api/v1/incidents/{id}", auth.ScopeRead, s.getIncident)
	s.handle(mux, "PATCH /api/v1/incidents/{id}", auth.ScopeWrite, s.updateIncident)
	s.handle(mux, "POST /api/v1/incidents/{id}/ack", auth.ScopeWrite, s.incidentAction(incident.Acknowledged))
	s.handle(mux, "POST /api/v1/incidents/{id}/resolve", auth.ScopeWrite, s.incidentAction(incident.Resolved))
	s.handle(mux, "POST /api/v1/incidents/{id}/close", auth.ScopeWrite, s.incidentAction(incident.Closed))
	s.handle(mux, "POST /api/v1/incidents/{id}/notes", auth.ScopeWrite, s.addIncidentNote)
	s.handle(mux, "POST /api/v1/incidents/{id}/reassign", auth.ScopeWrite, s.reassignIncident)
	s.handle(mux, "POST /api/v1/incidents/{id}/responders", auth.ScopeWrite, s.addIncidentResponders)
	s.handle(mux, "POST /api/v1/incidents/{id}/updates", auth.ScopeWrite, s.postIncidentUpdate)
	s.handle(mux, "GET /api/v1/incidents/{id}/timeline", auth.ScopeRead, s.incidentTimeline)

	s.handle(mux, "POST /api/v1/webhooks/alertmanager", auth.ScopeWrite, s.alertmanagerWebhook)
	s.handle(mux, "POST /api/v1/webhooks/github/issues", "", s.githubIssuesWebhook)
	s.handle(mux, "POST /api/v1/webhooks/generic", auth.ScopeWrite, s.genericWebhook)

	s.handle(mux, "GET /api/v1/maintenance-windows", auth.ScopeRead, s.listWindows)
	s.handle(mux, "POST /api/v1/maintenance-windows", auth.ScopeWrite, s.addWindow)
	s.handle(mux, "POST /api/v1/maintenance-windows/{id}/end", auth.ScopeWrite, s.endWindow)
	s.handle(mux, "GET /api/v1/heartbeats", auth.ScopeRead, s.listHeartbeats)
	s.handle(mux, "POST /api/v1/heartbeats/{name}", auth.ScopeWrite, s.beat)

	s.handle(mux, "GET /api/v1/actions/{token}", "", s.actionPage)
	s.handle(mux, "POST /api/v1/actions/{token}", "", s.doAction)

	// Job payloads name people's contact addresses (emails, webhook URLs that
	// may carry a secret): operators only.
	s.handle(mux, "GET /api/v1/jobs", auth.ScopeAdmin, s.listJobs)
}

func (s *Server) incidentSettings() incident.Settings {
	if s.Incident.Settings == nil {
		return incident.DefaultSettings()
	}
	return s.Incident.Settings()
}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	now := s.Clock.Now()
	f := incident.Filter{Service: q.Get("service"), Severity: q.Get("severity")}
	if st := q.Get("status"); st != "" {
		for _, v := range strings.Split(st, ",") {
			if v == "open" {
				f.Status = append(f.Status, incident.Triggered, incident.Acknowledged)
				continue
			}
			f.Status = append(f.Status, v)
		}
	}
	var err error
	if f.Since, err = queryTime(r, "since", now); err != nil {
		return err
	}
	if f.Until, err = queryTime(r, "until", now); err != nil {
		return err
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 {
			return &tandem.Error{Code: tandem.EInvalid, Field: "limit", Message: "limit must be a positive number"}
		}
		f.Limit = n
	}
	list, err := s.Incident.Manager.List(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(list))
	return nil
}

func (s *Server) openIncident(w http.ResponseWriter, r *http.Request) error {
	var in incident.OpenInput
	if err := decode(r, &in); err != nil {
		return err
	}
	for i, svc := range in.Services {
		if err := s.checkService("services["+strconv.Itoa(i)+"]", svc); err != nil {
			return err
		}
	}
	in.Actor = actor(r)
	inc, err := s.Incident.Manager.Open(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, inc)
	return nil
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	inc, err := s.Incident.Manager.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inc)
	return nil
}

func (s *Server) updateIncident(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var u incident.Update
	if err := decode(r, &u); err != nil {
		return err
	}
	inc, err := s.Incident.Manager.Update(r.Context(), id, actor(r), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inc)
	return nil
}

func (s *Server) incidentAction(to string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		var body struct {
			Note string `json:"note"`
		}
		if r.ContentLength != 0 {
			if err := decode(r, &body); err != nil {
				return err
			}
		}
		m := s.Incident.Manager
		var inc incident.Incident
		switch to {
		case incident.Acknowledged:
			inc, err = m.Ack(r.Context(), id, actor(r))
		case incident.Resolved:
			inc, err = m.Resolve(r.Context(), id, actor(r), body.Note)
		default:
			inc, err = m.Close(r.Context(), id, actor(r))
		}
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, inc)
		return nil
	}
}

func (s *Server) addIncidentNote(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var body struct {
		Text string `json:"text"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	ev, err := s.Incident.Manager.AddNote(r.Context(), id, actor(r), body.Text)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, ev)
	return nil
}

// reassignIncident assigns an incident to {"person"} or {"policy"} and
// pages the new assignee now.
func (s *Server) reassignIncident(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var body incident.Assignment
	if err := decode(r, &body); err != nil {
		return err
	}
	inc, err := s.Incident.Manager.Reassign(r.Context(), id, actor(r), body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inc)
	return nil
}

// addIncidentResponders pages {"people": [...]} to join an incident.
func (s *Server) addIncidentResponders(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var body struct {
		People []string `json:"people"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	inc, err := s.Incident.Manager.AddResponders(r.Context(), id, actor(r), body.People)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inc)
	return nil
}

// postIncidentUpdate records a status update ({"status", "message"}); the
// incident channel and the status page get it through their jobs.
func (s *Server) postIncidentUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var body struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	ev, err := s.Incident.Manager.PostUpdate(r.Context(), id, actor(r), body.Status, body.Message)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, ev)
	return nil
}

func (s *Server) incidentTimeline(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	tl, err := s.Incident.Manager.Timeline(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(tl))
	return nil
}

// alertResult is the answer to an inbound alert webhook.
type alertResult struct {
	Incident *incident.Incident `json:"incident"`
}

func (s *Server) answerAlert(w http.ResponseWriter, inc incident.Incident) {
	var res alertResult
	if inc.ID != 0 {
		res.Incident = &inc
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) alertmanagerWebhook(w http.ResponseWriter, r *http.Request) error {
	b, err := ReadBody(r)
	if err != nil {
		return err
	}
	gs, err := incident.ParseAlertmanager(b, s.incidentSettings().Mapping)
	if err != nil {
		return err
	}
	// A notification may hold the alerts of several SLOs: each opens or
	// updates its own incident; the answer names the first.
	var first incident.Incident
	for _, g := range gs {
		inc, err := s.Incident.Manager.AlertGroup(r.Context(), g)
		if err != nil {
			return err
		}
		if first.ID == 0 {
			first = inc
		}
	}
	s.answerAlert(w, first)
	return nil
}

func (s *Server) githubIssuesWebhook(w http.ResponseWriter, r *http.Request) error {
	b, err := ReadBody(r)
	if err != nil {
		return err
	}
	cfg := s.Config.Get().Incident
	if cfg.GitHubSecret == "" {
		return tandem.Errorf(tandem.EForbidden, "the GitHub issues webhook is not configured (incidents.github_issues.secret_env)")
	}
	if !slices.ContainsFunc(notify.Secrets(cfg.GitHubSecret), func(sec string) bool {
		return incident.VerifyGitHubSignature(sec, b, r.Header.Get("X-Hub-Signature-256"))
	}) {
		return tandem.Errorf(tandem.EUnauthorized, "bad or missing X-Hub-Signature-256")
	}
	switch ev := r.Header.Get("X-GitHub-Event"); ev {
	case "ping":
		writeJSON(w, http.StatusOK, map[string]string{"status": "pong"})
		return nil
	case "issues":
	default:
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "ignored", "reason": "event " + ev + " is not handled"})
		return nil
	}
	a, err := incident.ParseGitHubIssue(b, cfg.GitHubDefaultService)
	if err != nil {
		return err
	}
	var inc incident.Incident
	switch a.Op {
	case "alert":
		if err := s.checkService("issue.labels", a.Group.Service); err != nil {
			return err
		}
		inc, err = s.Incident.Manager.AlertGroup(r.Context(), a.Group)
	case "close":
		inc, err = s.Incident.Manager.CloseGroup(r.Context(), a.Group.Source, a.Group.GroupKey, "github")
	}
	if err != nil {
		return err
	}
	s.answerAlert(w, inc)
	return nil
}

func (s *Server) genericWebhook(w http.ResponseWriter, r *http.Request) error {
	b, err := ReadBody(r)
	if err != nil {
		return err
	}
	mp := s.incidentSettings().Mapping
	if d := s.Config.Get().Incident.WebhookDefault; d != "" {
		mp.DefaultService = d
	}
	g, err := incident.ParseGeneric(b, mp)
	if err != nil {
		return err
	}
	if err := s.checkService("service", g.Service); err != nil {
		return err
	}
	inc, err := s.Incident.Manager.AlertGroup(r.Context(), g)
	if err != nil {
		return err
	}
	s.answerAlert(w, inc)
	return nil
}

func (s *Server) listWindows(w http.ResponseWriter, r *http.Request) error {
	since, err := queryTime(r, "since", s.Clock.Now())
	if err != nil {
		return err
	}
	if since.IsZero() {
		since = s.Clock.Now()
	}
	ws, err := s.Incident.Manager.Windows(r.Context(), since)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(ws))
	return nil
}

func (s *Server) addWindow(w http.ResponseWriter, r *http.Request) error {
	var in incident.Window
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.ID != 0 {
		return tandem.FieldErrorf("id", "id is assigned by the server")
	}
	if err := s.checkService("service", in.Service); err != nil {
		return err
	}
	in.CreatedBy = actor(r)
	out, err := s.Incident.Manager.AddWindow(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// endWindow ends a maintenance window now (cancels one not yet started).
func (s *Server) endWindow(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	out, err := s.Incident.Manager.EndWindow(r.Context(), id, actor(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) listHeartbeats(w http.ResponseWriter, r *http.Request) error {
	st, err := s.Incident.Manager.Heartbeats(r.Context(), s.Config.Get().Incident.Heartbeats, s.Clock.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(st))
	return nil
}

func (s *Server) beat(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	for _, h := range s.Config.Get().Incident.Heartbeats {
		if h.Name == name {
			if err := s.Incident.Manager.Beat(r.Context(), h); err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "heartbeat": name})
			return nil
		}
	}
	return notFound("no heartbeat %q in the config", name)
}

func (s *Server) verifyAction(r *http.Request) (notify.Action, error) {
	set := s.incidentSettings()
	a, err := notify.Signer{Key: set.ActionKey}.Verify(r.PathValue("token"), s.Clock.Now())
	if err != nil {
		return a, tandem.Errorf(tandem.EForbidden, "%s", err.Error())
	}
	return a, nil
}

var actionPage = template.Must(template.New("action").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Verb}} incident #{{.ID}} — tandem</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em}button{font-size:1.1em;padding:.5em 1.5em}</style>
</head><body>
<h1>{{.Verb}} incident #{{.ID}}</h1>
<p><strong>{{.Title}}</strong> ({{.Severity}}, {{.Status}})</p>
{{if .Done}}<p>{{.Done}}</p>{{else}}
<form method="post"><button type="submit">{{.Verb}} as {{.Person}}</button></form>
<p><small>This link works until {{.Expires}}.</small></p>{{end}}
</body></html>
`))

type actionView struct {
	Verb, Title, Severity, Status, Person, Expires, Done string
	ID                                                   int64
}

// actionPage shows a confirmation page: link previews (Slack unfurls,
// mail scanners) fetch with GET, so GET never changes anything.
func (s *Server) actionPage(w http.ResponseWriter, r *http.Request) error {
	a, err := s.verifyAction(r)
	if err != nil {
		return err
	}
	inc, err := s.Incident.Manager.Get(r.Context(), a.IncidentID)
	if err != nil {
		return err
	}
	return s.renderAction(w, a, inc, "")
}

func (s *Server) renderAction(w http.ResponseWriter, a notify.Action, inc incident.Incident, done string) error {
	verb := "Acknowledge"
	if a.Verb == "resolve" {
		verb = "Resolve"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	return actionPage.Execute(w, actionView{Verb: verb, ID: inc.ID, Title: inc.Title, Severity: inc.Severity, Status: inc.Status,
		Person: a.Person, Expires: a.Expires.Format(time.RFC1123), Done: done})
}

// doAction acknowledges or resolves the incident the signed token names.
// An incident already in that state (or past it) answers 200 with a note,
// so a double click is harmless.
func (s *Server) doAction(w http.ResponseWriter, r *http.Request) error {
	a, err := s.verifyAction(r)
	if err != nil {
		return err
	}
	m := s.Incident.Manager
	actorName := a.Person + " (link)"
	var inc incident.Incident
	if a.Verb == "ack" {
		inc, err = m.Ack(r.Context(), a.IncidentID, actorName)
	} else {
		inc, err = m.Resolve(r.Context(), a.IncidentID, actorName, "")
	}
	done := "Done."
	var te *tandem.Error
	if errors.As(err, &te) && te.Code == tandem.EConflict {
		inc, err = m.Get(r.Context(), a.IncidentID)
		done = "Nothing to do: the incident is already " + inc.Status + "."
	}
	if err != nil {
		return err
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		writeJSON(w, http.StatusOK, inc)
		return nil
	}
	return s.renderAction(w, a, inc, done)
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := engine.Filter{State: q.Get("state"), Kind: q.Get("kind")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 {
			return &tandem.Error{Code: tandem.EInvalid, Field: "limit", Message: "limit must be a positive number"}
		}
		f.Limit = n
	}
	jobs, err := engine.List(r.Context(), s.DB, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(jobs))
	return nil
}
