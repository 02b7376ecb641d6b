package api

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
)

// fuzzTarget has a field of each kind request bodies use.
type fuzzTarget struct {
	Name    string            `json:"name"`
	Count   int               `json:"count"`
	Ratio   float64           `json:"ratio"`
	On      bool              `json:"on"`
	At      time.Time         `json:"at"`
	Tags    []string          `json:"tags"`
	Labels  map[string]string `json:"labels"`
	Nested  *fuzzTarget       `json:"nested"`
	Items   []fuzzTarget      `json:"items"`
	Amounts []int64           `json:"amounts"`
}

func checkDecodeErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *tandem.Error
	if !errors.As(err, &e) {
		t.Fatalf("error is not a *tandem.Error: %T %v", err, err)
	}
	if e.Code != tandem.EInvalid && e.Code != tandem.ETooLarge {
		t.Fatalf("error code %q for client input; want invalid or too_large", e.Code)
	}
	if e.Message == "" {
		t.Fatal("error without a message")
	}
}

// FuzzDecodeJSON: no body makes decoding panic, and every rejection is a
// 400 or 413 *tandem.Error.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"name":"a","count":1,"ratio":0.5,"on":true,"at":"2026-11-25T14:00:00Z","tags":["x"],"labels":{"k":"v"},"nested":{"name":"b"},"items":[{}]}`,
		`{"name":`, `[]`, `null`, `{"unknown":1}`, `{"count":"x"}`, `{"at":"yesterday"}`, `{} {}`, ``, `{"count":1e400}`,
		`{"nested":{"nested":{"nested":null}}}`, "\xff", `{"name":"\ud800"}`,
	} {
		f.Add([]byte(s), "application/json")
	}
	f.Add([]byte(`{}`), "text/plain")
	f.Add([]byte(`{}`), "application/json; charset=utf-8; x=\"")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		var v fuzzTarget
		checkDecodeErr(t, DecodeJSON(body, &v))
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		var w fuzzTarget
		checkDecodeErr(t, decode(r, &w))
	})
}

func TestDecodeTooLarge(t *testing.T) {
	big := `{"name":"` + strings.Repeat("x", MaxBodyBytes) + `"}`
	r := httptest.NewRequest("POST", "/", strings.NewReader(big))
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, MaxBodyBytes)
	var v fuzzTarget
	err := decode(r, &v)
	var e *tandem.Error
	if !errors.As(err, &e) || e.Code != tandem.ETooLarge {
		t.Errorf("decode of %d bytes: %v", len(big), err)
	}
	b, err := ReadBody(httptest.NewRequest("POST", "/", strings.NewReader(big)))
	if !errors.As(err, &e) || e.Code != tandem.ETooLarge || b != nil {
		t.Errorf("ReadBody of %d bytes: %v", len(big), err)
	}
	b, err = ReadBody(httptest.NewRequest("POST", "/", strings.NewReader(`{"a":1}`)))
	if err != nil || string(b) != `{"a":1}` {
		t.Errorf("ReadBody: %q %v", b, err)
	}
}
