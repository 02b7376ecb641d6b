// Package githubtest is a fake of the parts of GitHub's REST API tandem
// calls (check runs, deployment statuses, GitHub App installation tokens),
// for tests. It checks every request as GitHub's REST documentation gives
// it — method, path, the documented headers, a JSON body with only
// documented fields of the documented types, required fields, enums and
// limits — and fails the test on anything else. It answers like GitHub:
// 201 with the created object, 404 for an unknown repository or
// deployment, 422 for a commit the repository does not have, 401 for a
// bad token.
package githubtest

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// CheckRun is a check run as the fake stored it.
type CheckRun struct {
	ID          int64   `json:"-"`
	Repo        string  `json:"-"`
	Name        string  `json:"name"`
	HeadSHA     string  `json:"head_sha"`
	DetailsURL  string  `json:"details_url"`
	ExternalID  string  `json:"external_id"`
	Status      string  `json:"status"`
	StartedAt   string  `json:"started_at"`
	Conclusion  string  `json:"conclusion"`
	CompletedAt string  `json:"completed_at"`
	Output      *Output `json:"output"`
	Actions     []any   `json:"actions"`
}

// Output is a check run's output as posted.
type Output struct {
	Title       string `json:"title"`
	Summary     string `json:"summary"`
	Text        string `json:"text"`
	Annotations []any  `json:"annotations"`
	Images      []any  `json:"images"`
}

// DeploymentStatus is a deployment status as the fake stored it.
type DeploymentStatus struct {
	ID             int64  `json:"-"`
	Repo           string `json:"-"`
	DeploymentID   int64  `json:"-"`
	State          string `json:"state"`
	TargetURL      string `json:"target_url"`
	LogURL         string `json:"log_url"`
	Description    string `json:"description"`
	Environment    string `json:"environment"`
	EnvironmentURL string `json:"environment_url"`
	AutoInactive   *bool  `json:"auto_inactive"`
}

// App is a GitHub App the fake issues installation tokens for.
type App struct {
	ID             string
	InstallationID int64
	Key            *rsa.PublicKey
	// TokenTTL is how long issued tokens live (GitHub: one hour).
	TokenTTL time.Duration
}

// Fault is an answer the fake gives instead of handling a request: the
// first queued fault whose Method and Path match (Path is a prefix of the
// request's path) is used once. With Handled, the request is handled
// first (the check run is created) and the fault replaces the answer, as
// when GitHub's answer is lost.
type Fault struct {
	Method, Path string
	Status       int
	Header       http.Header
	Body         string
	Handled      bool
}

// Server is the fake. Its fields may be set before the first request.
type Server struct {
	*httptest.Server
	t testing.TB

	// Now is the fake's clock (default time.Now).
	Now func() time.Time

	mu sync.Mutex
	// tokens are the accepted tokens with their expiry (zero: none).
	tokens      map[string]time.Time
	app         *App
	commits     map[string]bool // "owner/name@sha"
	deployments map[string]bool // "owner/name#id"
	faults      []Fault
	nextID      int64

	CheckRuns          []CheckRun
	DeploymentStatuses []DeploymentStatus
	// Exchanges counts installation tokens issued; Requests every request
	// ("POST /repos/o/r/check-runs").
	Exchanges int
	Requests  []string
}

// New starts a fake; it is closed when the test ends.
func New(t testing.TB) *Server {
	s := &Server{t: t, tokens: map[string]time.Time{}, commits: map[string]bool{}, deployments: map[string]bool{}, nextID: 1000}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /app/installations/{installation_id}/access_tokens", s.accessToken)
	mux.HandleFunc("POST /repos/{owner}/{repo}/check-runs", s.createCheckRun)
	mux.HandleFunc("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", s.listCheckRuns)
	mux.HandleFunc("POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses", s.createDeploymentStatus)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("github fake: no such endpoint: %s %s", r.Method, r.URL.Path)
		answer(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	})
	s.Server = httptest.NewServer(s.middleware(mux))
	t.Cleanup(s.Close)
	return s
}

// AddToken accepts token (a personal access token or an installation
// token from elsewhere) until it is removed.
func (s *Server) AddToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = time.Time{}
}

// SetApp makes the fake issue installation tokens for app.
func (s *Server) SetApp(app App) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if app.TokenTTL == 0 {
		app.TokenTTL = time.Hour
	}
	s.app = &app
}

// AddCommit makes sha a commit of repo ("owner/name"); the repository
// exists once it has a commit.
func (s *Server) AddCommit(repo, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commits[repo+"@"+strings.ToLower(sha)] = true
}

// AddDeployment makes id a deployment of repo.
func (s *Server) AddDeployment(repo string, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deployments[repo+"#"+strconv.FormatInt(id, 10)] = true
}

// Inject queues a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// Snapshot returns copies of the created check runs and deployment
// statuses.
func (s *Server) Snapshot() ([]CheckRun, []DeploymentStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.CheckRuns), slices.Clone(s.DeploymentStatuses)
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) fail(w http.ResponseWriter, status int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.t.Errorf("github fake: %s", msg)
	answer(w, status, map[string]string{"message": msg})
}

// middleware checks the headers every request needs and applies faults.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.Requests = append(s.Requests, r.Method+" "+r.URL.Path)
		s.mu.Unlock()
		if got := r.Header.Get("Accept"); got != "application/vnd.github+json" {
			s.fail(w, http.StatusBadRequest, "Accept is %q, GitHub documents application/vnd.github+json", got)
			return
		}
		if got := r.Header.Get("X-GitHub-Api-Version"); got != "2022-11-28" {
			s.fail(w, http.StatusBadRequest, "X-GitHub-Api-Version is %q, want 2022-11-28", got)
			return
		}
		if r.Header.Get("User-Agent") == "" {
			s.fail(w, http.StatusForbidden, "GitHub refuses requests without a User-Agent")
			return
		}
		if r.Method == http.MethodPost {
			if ct := r.Header.Get("Content-Type"); ct != "application/json" && !(ct == "" && r.ContentLength == 0) {
				s.fail(w, http.StatusUnsupportedMediaType, "Content-Type is %q, want application/json", ct)
				return
			}
		}
		s.mu.Lock()
		var fault *Fault
		for i, f := range s.faults {
			if f.Method == r.Method && strings.HasPrefix(r.URL.Path, f.Path) {
				fault = &f
				s.faults = slices.Delete(s.faults, i, i+1)
				break
			}
		}
		s.mu.Unlock()
		if fault == nil {
			next.ServeHTTP(w, r)
			return
		}
		if fault.Handled {
			next.ServeHTTP(httptest.NewRecorder(), r)
		}
		for k, v := range fault.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(fault.Status)
		_, _ = io.WriteString(w, fault.Body)
	})
}

// authorized checks an installation or personal token.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	exp, known := s.tokens[tok]
	s.mu.Unlock()
	if !ok || !known || (!exp.IsZero() && !s.now().Before(exp)) {
		answer(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return false
	}
	return true
}

// decode reads a JSON object into v with only documented fields.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	b, _ := io.ReadAll(r.Body)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		s.fail(w, http.StatusUnprocessableEntity, "body %s is not the documented shape: %v", b, err)
		return false
	}
	return true
}

var (
	isoTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`)
	hexSHA  = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	app := s.app
	s.mu.Unlock()
	if app == nil || r.PathValue("installation_id") != strconv.FormatInt(app.InstallationID, 10) {
		answer(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	jwt, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if msg := s.verifyJWT(app, jwt); msg != "" {
		s.t.Errorf("github fake: app JWT refused: %s", msg)
		answer(w, http.StatusUnauthorized, map[string]string{"message": "A JSON web token could not be decoded: " + msg})
		return
	}
	if r.ContentLength > 0 {
		var body struct {
			Repositories  []string          `json:"repositories"`
			RepositoryIDs []int64           `json:"repository_ids"`
			Permissions   map[string]string `json:"permissions"`
		}
		if !s.decode(w, r, &body) {
			return
		}
	}
	s.mu.Lock()
	s.Exchanges++
	tok := fmt.Sprintf("ghs_fake%04d", s.Exchanges)
	exp := s.now().Add(app.TokenTTL).UTC().Truncate(time.Second)
	s.tokens[tok] = exp
	s.mu.Unlock()
	answer(w, http.StatusCreated, map[string]any{"token": tok, "expires_at": exp.Format(time.RFC3339),
		"permissions": map[string]string{"checks": "write", "deployments": "write"}, "repository_selection": "all"})
}

// verifyJWT checks an app JWT as GitHub does: RS256 signed by the app's
// key, iss the app, exp no more than 10 minutes after iat and not passed,
// iat not in the future. It returns "" when it holds.
func (s *Server) verifyJWT(app *App, jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "not three parts"
	}
	enc := base64.RawURLEncoding
	hb, err1 := enc.DecodeString(parts[0])
	cb, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return "not base64url without padding"
	}
	var h struct{ Alg, Typ string }
	if json.Unmarshal(hb, &h) != nil || h.Alg != "RS256" {
		return "header " + string(hb) + " is not RS256"
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(app.Key, crypto.SHA256, sum[:], sig) != nil {
		return "signature does not verify with the app's public key"
	}
	var c struct {
		Iat, Exp *int64
		Iss      any
	}
	if json.Unmarshal(cb, &c) != nil || c.Iat == nil || c.Exp == nil {
		return "claims " + string(cb) + " lack iat or exp"
	}
	if fmt.Sprint(c.Iss) != app.ID {
		return fmt.Sprintf("iss %v is not the app %s", c.Iss, app.ID)
	}
	now := s.now().Unix()
	switch {
	case *c.Exp-*c.Iat > 600:
		return "exp is more than 10 minutes after iat"
	case *c.Exp <= now:
		return "expired"
	case *c.Iat > now+60:
		return "iat is in the future"
	}
	return ""
}

func (s *Server) repoExists(repo string) bool {
	for k := range s.commits {
		if strings.HasPrefix(k, repo+"@") {
			return true
		}
	}
	return false
}

func (s *Server) createCheckRun(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	var c CheckRun
	if !s.decode(w, r, &c) {
		return
	}
	switch {
	case c.Name == "" || c.HeadSHA == "":
		s.fail(w, http.StatusUnprocessableEntity, "name and head_sha are required")
		return
	case c.Status != "" && !slices.Contains([]string{"queued", "in_progress", "completed"}, c.Status):
		s.fail(w, http.StatusUnprocessableEntity, "status %q is not queued, in_progress or completed", c.Status)
		return
	case (c.Status == "completed" || c.CompletedAt != "") && c.Conclusion == "":
		s.fail(w, http.StatusUnprocessableEntity, "conclusion is required with completed_at or status completed")
		return
	case c.Conclusion != "" && !slices.Contains([]string{"action_required", "cancelled", "failure", "neutral", "success", "skipped", "timed_out"}, c.Conclusion):
		s.fail(w, http.StatusUnprocessableEntity, "conclusion %q is not one GitHub accepts", c.Conclusion)
		return
	}
	for name, v := range map[string]string{"started_at": c.StartedAt, "completed_at": c.CompletedAt} {
		if v != "" && !isoTime.MatchString(v) {
			s.fail(w, http.StatusUnprocessableEntity, "%s %q is not YYYY-MM-DDTHH:MM:SSZ", name, v)
			return
		}
	}
	if o := c.Output; o != nil {
		if o.Title == "" || o.Summary == "" {
			s.fail(w, http.StatusUnprocessableEntity, "output.title and output.summary are required")
			return
		}
		if utf8.RuneCountInString(o.Summary) > 65535 || utf8.RuneCountInString(o.Text) > 65535 {
			s.fail(w, http.StatusUnprocessableEntity, "output.summary or output.text longer than 65535 characters")
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.repoExists(repo) {
		answer(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	if !hexSHA.MatchString(c.HeadSHA) || !s.commits[repo+"@"+c.HeadSHA] {
		answer(w, http.StatusUnprocessableEntity, map[string]string{"message": "No commit found for SHA: " + c.HeadSHA})
		return
	}
	s.nextID++
	c.ID, c.Repo = s.nextID, repo
	s.CheckRuns = append(s.CheckRuns, c)
	answer(w, http.StatusCreated, s.runJSON(c))
}

func (s *Server) runJSON(c CheckRun) map[string]any {
	return map[string]any{"id": c.ID, "name": c.Name, "head_sha": c.HeadSHA, "external_id": c.ExternalID, "status": c.Status,
		"conclusion": c.Conclusion, "html_url": fmt.Sprintf("https://github.com/%s/runs/%d", c.Repo, c.ID),
		"url": fmt.Sprintf("%s/repos/%s/check-runs/%d", s.URL, c.Repo, c.ID)}
}

func (s *Server) listCheckRuns(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	q := r.URL.Query()
	for k := range q {
		if !slices.Contains([]string{"check_name", "status", "filter", "per_page", "page", "app_id"}, k) {
			s.fail(w, http.StatusUnprocessableEntity, "query parameter %q is not documented", k)
			return
		}
	}
	if f := q.Get("filter"); f != "" && f != "latest" && f != "all" {
		s.fail(w, http.StatusUnprocessableEntity, "filter %q is not latest or all", f)
		return
	}
	if pp := q.Get("per_page"); pp != "" {
		if n, err := strconv.Atoi(pp); err != nil || n < 1 || n > 100 {
			s.fail(w, http.StatusUnprocessableEntity, "per_page %q is not 1 to 100", pp)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.repoExists(repo) {
		answer(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	runs := []map[string]any{}
	for _, c := range s.CheckRuns {
		if c.Repo == repo && c.HeadSHA == r.PathValue("ref") && (q.Get("check_name") == "" || q.Get("check_name") == c.Name) {
			runs = append(runs, s.runJSON(c))
		}
	}
	answer(w, http.StatusOK, map[string]any{"total_count": len(runs), "check_runs": runs})
}

func (s *Server) createDeploymentStatus(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	id, err := strconv.ParseInt(r.PathValue("deployment_id"), 10, 64)
	if err != nil {
		s.fail(w, http.StatusNotFound, "deployment_id %q is not an integer", r.PathValue("deployment_id"))
		return
	}
	var d DeploymentStatus
	if !s.decode(w, r, &d) {
		return
	}
	switch {
	case !slices.Contains([]string{"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}, d.State):
		s.fail(w, http.StatusUnprocessableEntity, "state %q is not one GitHub accepts", d.State)
		return
	case utf8.RuneCountInString(d.Description) > 140:
		s.fail(w, http.StatusUnprocessableEntity, "description longer than 140 characters: %q", d.Description)
		return
	}
	for name, v := range map[string]string{"log_url": d.LogURL, "target_url": d.TargetURL, "environment_url": d.EnvironmentURL} {
		if v != "" && !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
			s.fail(w, http.StatusUnprocessableEntity, "%s %q is not a URL", name, v)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.deployments[repo+"#"+strconv.FormatInt(id, 10)] {
		answer(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	s.nextID++
	d.ID, d.Repo, d.DeploymentID = s.nextID, repo, id
	if d.LogURL != "" {
		d.TargetURL = d.LogURL
	}
	s.DeploymentStatuses = append(s.DeploymentStatuses, d)
	answer(w, http.StatusCreated, map[string]any{"id": d.ID, "state": d.State, "description": d.Description,
		"log_url": d.LogURL, "target_url": d.TargetURL, "environment_url": d.EnvironmentURL,
		"deployment_url": fmt.Sprintf("%s/repos/%s/deployments/%d", s.URL, repo, id)})
}
