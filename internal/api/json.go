package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
)

const (
	// MaxBodyBytes bounds every request body.
	MaxBodyBytes = 1 << 20
	readyTimeout = 2 * time.Second
)

// statusOf maps error codes to HTTP statuses: the one table at the edge.
var statusOf = map[string]int{
	tandem.EInvalid:       http.StatusBadRequest,
	tandem.EUnprocessable: http.StatusUnprocessableEntity,
	tandem.ENotFound:      http.StatusNotFound,
	tandem.EConflict:      http.StatusConflict,
	tandem.EUnauthorized:  http.StatusUnauthorized,
	tandem.EForbidden:     http.StatusForbidden,
	tandem.ETooLarge:      http.StatusRequestEntityTooLarge,
	tandem.EUnavailable:   http.StatusServiceUnavailable,
	tandem.EInternal:      http.StatusInternalServerError,
}

type errorBody struct {
	Error *tandem.Error `json:"error"`
}

// writeError answers with the JSON error for err. An error that is not a
// *tandem.Error is a bug or an outage: it is logged and shown as internal.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *tandem.Error
	if !errors.As(err, &e) {
		s.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "request_id", requestIDFrom(r.Context()), "err", err)
		e = &tandem.Error{Code: tandem.EInternal, Message: "internal error; see the server log (request id " + requestIDFrom(r.Context()) + ")"}
	}
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tandem"`)
	}
	writeJSON(w, status, errorBody{Error: e})
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// decode reads the JSON body into v: one value, no unknown fields, at most
// MaxBodyBytes. Every problem is an *tandem.Error naming what is wrong.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return tandem.Errorf(tandem.EInvalid, "Content-Type must be application/json, got %q", ct)
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		return tandem.Errorf(tandem.EInvalid, "body must hold a single JSON value")
	}
	return nil
}

// DecodeJSON is decode for bodies already read (webhooks read the raw body
// to check its signature first).
func DecodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	return nil
}

func decodeError(err error) error {
	var (
		syntax   *json.SyntaxError
		typeErr  *json.UnmarshalTypeError
		maxBytes *http.MaxBytesError
	)
	switch {
	case errors.As(err, &maxBytes):
		return tandem.Errorf(tandem.ETooLarge, "request body larger than %d bytes", maxBytes.Limit)
	case errors.As(err, &syntax):
		return tandem.Errorf(tandem.EInvalid, "malformed JSON at byte %d: %v", syntax.Offset, syntax)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		return &tandem.Error{Code: tandem.EInvalid, Field: field,
			Message: fmt.Sprintf("wrong type for %q: got JSON %s, want %s", field, typeErr.Value, typeErr.Type)}
	case errors.Is(err, io.EOF):
		return tandem.Errorf(tandem.EInvalid, "request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return tandem.Errorf(tandem.EInvalid, "malformed JSON: unexpected end of body")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &tandem.Error{Code: tandem.EInvalid, Field: name, Message: fmt.Sprintf("unknown field %q", name)}
	}
	return tandem.Errorf(tandem.EInvalid, "malformed JSON: %v", err)
}

func notFound(format string, args ...any) error {
	return tandem.Errorf(tandem.ENotFound, format, args...)
}

// queryTime parses a time query parameter: RFC 3339, or a duration ago
// ("90d", "2h"). Empty gives the zero time.
func queryTime(r *http.Request, name string, now time.Time) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := tandem.ParseTime(v, now)
	if err != nil {
		return time.Time{}, &tandem.Error{Code: tandem.EInvalid, Field: name, Message: err.Error()}
	}
	return t, nil
}
