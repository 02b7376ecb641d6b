package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
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
	tandem.EMethod:        http.StatusMethodNotAllowed,
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
		s.Log.Error("request failed", "method", r.Method, "route", routeOf(r), "request_id", requestIDFrom(r.Context()), "err", err)
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
// MaxBodyBytes. Every problem is an *tandem.Error naming what is wrong:
// invalid (400) for a wrong Content-Type, malformed JSON, an unknown field
// (Field names it), a wrong type (Field names the field) or trailing data,
// and too_large (413) for a body over the limit.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &tandem.Error{Code: tandem.EInvalid, Field: "Content-Type", Message: fmt.Sprintf("Content-Type must be application/json, got %q", ct)}
		}
	}
	return decodeFrom(r.Body, v)
}

// DecodeJSON is decode for bodies already read (webhooks read the raw body
// with ReadBody to check its signature first). Its errors are the same
// *tandem.Error values decode returns.
func DecodeJSON(b []byte, v any) error {
	return decodeFrom(bytes.NewReader(b), v)
}

// ReadBody reads the whole request body, at most MaxBodyBytes; a larger one
// is a too_large *tandem.Error (413).
func ReadBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	var maxBytes *http.MaxBytesError
	switch {
	case errors.As(err, &maxBytes) || len(b) > MaxBodyBytes:
		return nil, tandem.Errorf(tandem.ETooLarge, "request body larger than %d bytes", MaxBodyBytes)
	case err != nil:
		return nil, tandem.Errorf(tandem.EInvalid, "read request body: %v", err)
	}
	return b, nil
}

func decodeFrom(rd io.Reader, v any) error {
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case err == io.EOF:
		return nil
	case err != nil:
		var maxBytes *http.MaxBytesError
		if errors.As(err, &maxBytes) {
			return decodeError(err)
		}
	}
	return tandem.Errorf(tandem.EInvalid, "body must hold a single JSON value; found more after it")
}

func decodeError(err error) error {
	var (
		appErr   *tandem.Error
		syntax   *json.SyntaxError
		typeErr  *json.UnmarshalTypeError
		maxBytes *http.MaxBytesError
	)
	switch {
	case errors.As(err, &appErr):
		// A type's own UnmarshalJSON said what is wrong.
		return appErr
	case errors.As(err, &maxBytes):
		return tandem.Errorf(tandem.ETooLarge, "request body larger than %d bytes", maxBytes.Limit)
	case errors.As(err, &syntax):
		return tandem.Errorf(tandem.EInvalid, "malformed JSON at byte %d: %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return tandem.Errorf(tandem.EInvalid, "wrong type for the body: got JSON %s, want %s", typeErr.Value, jsonKind(typeErr.Type))
		}
		return &tandem.Error{Code: tandem.EInvalid, Field: field,
			Message: fmt.Sprintf("wrong type for %q: got JSON %s, want %s", field, typeErr.Value, jsonKind(typeErr.Type))}
	case errors.Is(err, io.EOF):
		return tandem.Errorf(tandem.EInvalid, "request body is empty; want a JSON value")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return tandem.Errorf(tandem.EInvalid, "malformed JSON: unexpected end of body")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &tandem.Error{Code: tandem.EInvalid, Field: name, Message: fmt.Sprintf("unknown field %q", name)}
	}
	return tandem.Errorf(tandem.EInvalid, "malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names the JSON a Go type takes.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		if t == reflect.TypeOf(time.Time{}) {
			return "an RFC 3339 time string"
		}
		return "an object"
	}
	return t.String()
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

// pathID reads the {id} path parameter: a positive integer, or a 400 that
// names it.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, tandem.FieldErrorf("id", "want a positive number, got %q", r.PathValue("id"))
	}
	return id, nil
}
