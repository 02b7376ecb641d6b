package chatops

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

// TestPhoneLimits: a number gets at most one SMS a minute and three in any
// 15 minutes; a retry of a counted delivery is not counted twice; every
// number together gets at most five in 24 hours. Waits are to the
// millisecond the oldest send leaves its window.
func TestPhoneLimits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := &Service{DB: d}
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		limits := []Limit{{1, time.Minute}, {3, 15 * time.Minute}}
		const a, b = "+15551230001", "+15551230002"
		steps := []struct {
			at       time.Duration
			number   string
			delivery string
			wait     time.Duration
			capped   bool
		}{
			{0, a, "d1", 0, false},
			{30 * time.Second, a, "d2", 30*time.Second + time.Millisecond, false}, // 1 a minute: d1 leaves at 1m
			{30 * time.Second, b, "e1", 0, false},                                 // another number has its own limits
			{61 * time.Second, a, "d2", 0, false},
			{62 * time.Second, a, "d1", 0, false}, // a retry of d1: counted once already
			{125 * time.Second, a, "d3", 0, false},
			{190 * time.Second, a, "d4", 15*time.Minute - 190*time.Second + time.Millisecond, false}, // 3 in 15m: d1 (at 0) leaves at 15m
			{15*time.Minute + time.Second, a, "d4", 0, false},
			{16 * time.Minute, b, "e2", 0, false},           // the fifth send in 24h
			{18 * time.Minute, b, "e3", 0, true},            // the daily cap
			{24*time.Hour + time.Second, b, "e3", 0, false}, // d1 left the 24 hours
		}
		for i, st := range steps {
			wait, err := s.reservePhone(ctx, st.number, "sms", st.delivery, limits, 6, t0.Add(st.at))
			if st.capped {
				if !errors.Is(err, errDailyCap) {
					t.Fatalf("step %d: err = %v, want the daily cap", i, err)
				}
				continue
			}
			if err != nil || wait != st.wait {
				t.Fatalf("step %d (%s at %s): wait %s, %v; want %s", i, st.delivery, st.at, wait, err, st.wait)
			}
		}
	})
}

// TestParseReply reads SMS replies; anything else is not an action.
func TestParseReply(t *testing.T) {
	for in, want := range map[string]string{
		"ack 12": "ack 12", "ACK 12": "ack 12", " acknowledge #12 ": "ack 12", "resolve 7": "resolve 7", "Resolve   7\n": "resolve 7",
		"ack": "", "ack twelve": "", "ack 12 13": "", "please ack 12": "", "ack 0": "", "ack -1": "", "ack 99999999999999999999": "",
	} {
		verb, id, ok := ParseReply(in)
		got := ""
		if ok {
			got = verb + " " + strconv.FormatInt(id, 10)
		}
		if got != want {
			t.Errorf("ParseReply(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseReply: a reply either is no action or names ack or resolve and
// a positive incident number.
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{"ack 12", "resolve #3", "ack", "ACK 99999999999999999999", "\u00a0ack 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		verb, id, ok := ParseReply(s)
		if ok && ((verb != "ack" && verb != "resolve") || id <= 0) {
			t.Fatalf("ParseReply(%q) = %q %d", s, verb, id)
		}
	})
}

// FuzzParseMattermostAction: a request either fails or has a token and
// a user.
func FuzzParseMattermostAction(f *testing.F) {
	f.Add([]byte(`{"user_id":"u1","user_name":"alice","channel_id":"c1","post_id":"p1","type":"","context":{"token":"abc"}}`))
	f.Add([]byte(`{"context":{"token":1}}`))
	f.Add([]byte(`{"user_name":"alice","context":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, tok, err := ParseMattermostAction(b)
		if err == nil && (tok == "" || (a.UserID == "" && a.UserName == "")) {
			t.Fatalf("accepted %s", b)
		}
	})
}
