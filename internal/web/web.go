// Package web is the dashboard: server-rendered html/template pages with SVG
// drawn in Go, and the project's own CSS, all embedded in the binary.
package web

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/config"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Deps is what the dashboard reads.
type Deps struct {
	Config *config.Holder
	Log    *slog.Logger
	Clock  clock.Clock
}

// Handler serves the dashboard pages and their static files.
type Handler struct {
	deps  Deps
	pages *template.Template
	mux   *http.ServeMux
}

// New builds the dashboard handler.
func New(d Deps) *Handler {
	h := &Handler{deps: d, mux: http.NewServeMux()}
	h.pages = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html"))
	static, _ := fs.Sub(staticFS, "static")
	h.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	h.mux.HandleFunc("GET /{$}", h.overview)
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

var funcs = template.FuncMap{}

func (h *Handler) render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err := h.pages.ExecuteTemplate(w, name, data); err != nil {
		h.deps.Log.Error("render page", "page", name, "err", err)
	}
}

func (h *Handler) overview(w http.ResponseWriter, r *http.Request) {
	cfg := h.deps.Config.Get()
	h.render(w, "overview.html", map[string]any{
		"Title":    "Overview",
		"Services": cfg.Catalog.Services,
	})
}
