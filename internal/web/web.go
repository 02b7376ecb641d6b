// Package web is the dashboard: server-rendered html/template pages with SVG
// charts drawn in Go (package chart), and the project's own CSS and a little
// JavaScript (hover values on charts, refresh every 30 seconds keeping the
// scroll position), all embedded in the binary. Nothing is loaded from
// another site.
//
// Pages read every capability through its store or service (see Deps); a
// capability that is not wired, or has no data yet, is shown as such, never
// with made-up numbers. Filters and time ranges live in the URL, so a page
// can be shared as a link. Reads are open when the server runs with public
// reads, otherwise they need a signed-in browser (see session.go); actions
// (ack, resolve, close, edits) always need a session with write scope and a
// CSRF token.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/dora"
	"github.com/tandemhq/tandem/internal/web/chart"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// RefreshSeconds is how often pages refresh themselves.
const RefreshSeconds = 30

// Deps is what the dashboard reads. Config, DB, Tokens, Log and Clock are
// required; each capability's field may be nil, and its pages then say that
// the capability is not available.
type Deps struct {
	Config *config.Holder
	DB     *db.DB
	Tokens *auth.Store
	Log    *slog.Logger
	Clock  clock.Clock
	// PublicRead shows pages without signing in (actions still need it).
	PublicRead bool

	// SLOs evaluates SLOs and their history (*slo.Service).
	SLOs SLOs
	// Changes lists change events (*change.Store).
	Changes Changes
	// DORA loads delivery metrics' inputs (*dora.Loader); DORAOptions
	// returns the configured windows (nil: DORA's defaults).
	DORA        DORA
	DORAOptions func() dora.Options
	// Gates lists gate results and verifications (*gate.Store).
	Gates Gates
	// Chaos lists chaos experiments and their SLIs (*chaos.Service).
	Chaos ChaosRuns
	// Incidents reads and acts on incidents (*incident.Manager).
	Incidents Incidents
	// Oncall reads schedules, overrides and policies (*oncall.Service).
	Oncall Oncall
	// Postmortems and action items (*postmortem.Store); PostmortemEditor
	// saves edits (*postmortem.Service).
	Postmortems      Postmortems
	PostmortemEditor PostmortemEditor
	// Toil lists toil entries (*toil.Store); goals come from the config.
	Toil Toil
	// OncallHours gives hours on call per person in [from, to), for the
	// share of on-call time toil took (nil: not shown).
	OncallHours func(ctx context.Context, from, to time.Time) (map[string]float64, error)
	// OKRs evaluates reliability objectives.
	OKRs OKRs
}

// Handler serves the dashboard pages and their static files.
type Handler struct {
	deps     Deps
	sessions sessions
	pages    map[string]*template.Template
	assets   map[string]string // file name -> content hash, for cache busting
	tiers    tierCache
	handler  http.Handler
}

// New builds the dashboard handler. It panics if the embedded templates do
// not parse, which the package's tests catch.
func New(d Deps) *Handler {
	h := &Handler{deps: d, sessions: sessions{db: d.DB}, pages: map[string]*template.Template{}, assets: map[string]string{}}
	static, _ := fs.Sub(staticFS, "static")
	_ = fs.WalkDir(static, ".", func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			b, _ := fs.ReadFile(static, p)
			sum := sha256.Sum256(b)
			h.assets[p] = hex.EncodeToString(sum[:6])
		}
		return nil
	})
	names, _ := fs.Glob(templateFS, "templates/*.html")
	for _, n := range names {
		n = strings.TrimPrefix(n, "templates/")
		if n == "layout.html" {
			continue
		}
		h.pages[n] = template.Must(template.New(n).Funcs(h.funcs()).ParseFS(templateFS, "templates/layout.html", "templates/"+n))
	}

	mux := http.NewServeMux()
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.URL.Query().Get("v"); v != "" && v == h.assets[strings.TrimPrefix(r.URL.Path, "/static/")] {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	}))
	mux.Handle("GET /login", h.page("", h.loginPage))
	mux.HandleFunc("POST /login", h.login)
	mux.HandleFunc("POST /logout", h.logout)
	mux.Handle("GET /{$}", h.page("overview", h.overview))
	mux.Handle("GET /incidents", h.page("incidents", h.incidentList))
	mux.Handle("GET /incidents/{id}", h.page("incidents", h.incidentDetail))
	mux.Handle("POST /incidents", h.action(h.declareIncident))
	mux.Handle("POST /incidents/bulk", h.action(h.bulkAction))
	mux.Handle("POST /incidents/{id}/{action}", h.action(h.incidentAction))
	mux.Handle("GET /oncall", h.page("oncall", h.oncallPage))
	mux.Handle("POST /maintenance/{id}/end", h.action(h.endMaintenance))
	mux.Handle("GET /services/{name}", h.page("overview", h.servicePage))
	mux.Handle("GET /delivery", h.page("delivery", h.deliveryPage))
	mux.Handle("GET /postmortems", h.page("postmortems", h.postmortemList))
	mux.Handle("GET /postmortems/{id}", h.page("postmortems", h.postmortemPage))
	mux.Handle("GET /postmortems/{id}/print", h.page("postmortems", h.postmortemPrint))
	mux.Handle("POST /postmortems/{id}", h.action(h.postmortemSave))
	mux.Handle("GET /actions", h.page("actions", h.actionItems))
	mux.Handle("POST /actions/{id}", h.action(h.actionItemDone))
	mux.Handle("GET /toil", h.page("toil", h.toilPage))
	mux.Handle("GET /okrs", h.page("okrs", h.okrPage))
	mux.Handle("/", h.page("", func(w http.ResponseWriter, r *http.Request, b base) error {
		return tandem.Errorf(tandem.ENotFound, "no page at %s", r.URL.Path)
	}))
	h.handler = gzipped(securityHeaders(mux))
	return h
}

// ServeHTTP serves the dashboard.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.handler.ServeHTTP(w, r) }

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// base is what every page's template gets.
type base struct {
	Title   string
	Section string // the nav entry to highlight
	Viewer  viewer
	CSRF    string
	Now     time.Time
	// Refresh is the auto-refresh period in seconds; 0 turns it off.
	Refresh    int
	Path       string // this page's path and query, for "sign in and come back"
	PublicRead bool
	Notice     string
	// RangeQ is the time range and environment of the URL as a query
	// ("range=7d&env=staging"), kept by the navigation links; "" for none.
	RangeQ string
	// Bare leaves out the site's header and footer (the print view).
	Bare bool
}

// pageFunc renders one page. An error becomes an error page with the
// status of its code.
type pageFunc func(w http.ResponseWriter, r *http.Request, b base) error

// page wraps a page: it finds the viewer, asks for sign-in when reads are
// not public, and renders errors.
func (h *Handler) page(section string, fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := h.viewer(r)
		if err != nil {
			h.fail(w, r, base{}, err)
			return
		}
		b := base{Section: section, Viewer: v, CSRF: v.csrf, Now: h.deps.Clock.Now(), Refresh: RefreshSeconds,
			Path: r.URL.RequestURI(), PublicRead: h.deps.PublicRead, Notice: noticeText(r.URL.Query().Get("done"), r.URL.Query().Get("n"))}
		b.RangeQ = carriedQuery(r.URL.Query(), b.Now)
		if !v.SignedIn && !h.deps.PublicRead && r.URL.Path != "/login" {
			http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if err := fn(w, r, b); err != nil {
			h.fail(w, r, b, err)
		}
	})
}

// action wraps a state-changing POST: it needs a write-scope viewer and, for
// a browser session, same origin and the CSRF token.
func (h *Handler) action(fn func(w http.ResponseWriter, r *http.Request, v viewer) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := h.viewer(r)
		if err != nil {
			h.fail(w, r, base{}, err)
			return
		}
		b := base{Viewer: v, CSRF: v.csrf, Now: h.deps.Clock.Now(), Path: r.URL.RequestURI(), PublicRead: h.deps.PublicRead}
		switch {
		case !v.SignedIn:
			h.fail(w, r, b, tandem.Errorf(tandem.EUnauthorized, "sign in with a token that has write scope to do this"))
		case !checkCSRF(r, v):
			h.fail(w, r, b, tandem.Errorf(tandem.EForbidden, "the form was not sent from this dashboard, or it is stale; reload the page and try again"))
		case !v.CanWrite():
			h.fail(w, r, b, tandem.Errorf(tandem.EForbidden, "token %q has scope %s; this needs write", v.Name, v.Scope))
		default:
			if err := fn(w, r, v); err != nil {
				h.fail(w, r, b, err)
			}
		}
	})
}

// viewer identifies the request's user: a bearer token in the header (for
// scripts and tests), else the session cookie.
func (h *Handler) viewer(r *http.Request) (viewer, error) {
	if secret := bearerToken(r); secret != "" {
		tok, err := h.deps.Tokens.Verify(r.Context(), secret)
		if err != nil {
			return viewer{}, err
		}
		return viewer{SignedIn: true, Name: tok.Name, Scope: tok.Scope, ViaHeader: true}, nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return viewer{}, nil
	}
	v, _, err := h.sessions.lookup(r.Context(), c.Value, h.deps.Clock.Now())
	return v, err
}

// bearerToken returns the token in the Authorization header, or "".
func bearerToken(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// statusOf maps error codes to HTTP statuses for pages.
var statusOf = map[string]int{
	tandem.EInvalid:       http.StatusBadRequest,
	tandem.EUnprocessable: http.StatusUnprocessableEntity,
	tandem.ENotFound:      http.StatusNotFound,
	tandem.EConflict:      http.StatusConflict,
	tandem.EUnauthorized:  http.StatusUnauthorized,
	tandem.EForbidden:     http.StatusForbidden,
	tandem.EUnavailable:   http.StatusServiceUnavailable,
}

// errorPage is the data of error.html.
type errorPage struct {
	base
	Status  int
	Message string
	Field   string
}

// fail renders an error page. Errors that are not *tandem.Error are logged
// and shown as an internal error without their text.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, b base, err error) {
	var e *tandem.Error
	if !errors.As(err, &e) {
		h.deps.Log.Error("dashboard page failed", "path", r.URL.Path, "err", err)
		e = &tandem.Error{Code: tandem.EInternal, Message: "something went wrong on the server; the log has the details"}
	}
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	b.Title = http.StatusText(status)
	b.Refresh = 0
	if b.Now.IsZero() {
		b.Now = h.deps.Clock.Now()
	}
	h.render(w, status, "error.html", errorPage{base: b, Status: status, Message: e.Message, Field: e.Field})
}

// render executes a page template into a buffer first, so a template error
// never sends half a page.
func (h *Handler) render(w http.ResponseWriter, status int, name string, data any) {
	t, ok := h.pages[name]
	if !ok {
		h.deps.Log.Error("no such page template", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		h.deps.Log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error: the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// pathID reads the {id} path parameter of a page about a what ("incident"):
// anything but a positive number is a page that does not exist.
func pathID(r *http.Request, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, tandem.Errorf(tandem.ENotFound, "no %s %q", what, r.PathValue("id"))
	}
	return id, nil
}

// noticeText is the message shown after an action redirected back.
func noticeText(done, n string) string {
	count, _ := strconv.Atoi(n)
	switch done {
	case "bulk-acknowledged":
		return plural(count, "incident", "incidents") + " acknowledged."
	case "bulk-resolved":
		return plural(count, "incident", "incidents") + " resolved."
	case "escalated":
		return "Escalated: the next rule of the policy is being paged."
	case "updated":
		return "Incident updated."
	case "reassigned":
		return "Reassigned: the new assignee is being paged."
	case "responders-added":
		return "Responders asked: they are being paged."
	case "signed-in":
		return "Signed in."
	case "signed-out":
		return "Signed out."
	case "declared":
		return "Incident declared."
	case "acknowledged":
		return "Incident acknowledged."
	case "resolved":
		return "Incident resolved."
	case "closed":
		return "Incident closed."
	case "noted":
		return "Note added."
	case "maintenance-ended":
		return "Maintenance window ended: alerts on its service page again."
	case "saved":
		return "Saved."
	}
	return ""
}

// chartDefs is used by the layout.
var chartDefs = chart.Defs()
