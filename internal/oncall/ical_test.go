package oncall

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestICSRoundTrip writes a feed and reads it back line by line: CRLF
// endings, no line over 75 octets, folds never inside a UTF-8 sequence,
// the required properties in the calendar and each event, UTC times, one
// stable UID per shift, and text that unescapes to what was written.
func TestICSRoundTrip(t *testing.T) {
	long := "Zahlungs-Bereitschaft, Tag; Nacht \\ Wochenende – Überstunden für die Plattform (Europa/Berlin) ☎☎☎"
	shifts := []Shift{
		{Schedule: long, Person: "alice", Start: mustTime(t, "2026-03-23T08:00:00Z"), End: mustTime(t, "2026-03-30T07:00:00Z"), Layer: "primary"},
		{Schedule: long, Person: "bob", Start: mustTime(t, "2026-03-30T07:00:00Z"), End: mustTime(t, "2026-04-06T07:00:00Z"), Layer: "override"},
	}
	stamp := mustTime(t, "2026-11-25T21:00:00Z")
	var buf bytes.Buffer
	if err := WriteICS(&buf, Calendar{Name: long, Shifts: shifts, Stamp: stamp}); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		t.Fatal("feed does not end with CRLF")
	}
	folded := 0
	for i, line := range strings.Split(strings.TrimSuffix(string(raw), "\r\n"), "\r\n") {
		if strings.ContainsAny(line, "\r\n") {
			t.Errorf("line %d has a bare CR or LF", i+1)
		}
		if len(line) > 75 {
			t.Errorf("line %d is %d octets: %q", i+1, len(line), line)
		}
		if !utf8.ValidString(line) {
			t.Errorf("line %d splits a UTF-8 sequence: %q", i+1, line)
		}
		if strings.HasPrefix(line, " ") {
			folded++
		}
	}
	if folded == 0 {
		t.Error("expected the long names to be folded")
	}
	comps, err := ParseICS(raw)
	if err != nil {
		t.Fatalf("parse own feed: %v\n%s", err, raw)
	}
	if len(comps) != 3 || comps[0].Name != "VCALENDAR" {
		t.Fatalf("components = %+v", comps)
	}
	for _, p := range []string{"VERSION", "PRODID"} {
		if _, ok := comps[0].Get(p); !ok {
			t.Errorf("VCALENDAR lacks %s", p)
		}
	}
	if v, _ := comps[0].Get("VERSION"); v != "2.0" {
		t.Errorf("VERSION = %q", v)
	}
	if v, _ := comps[0].Get("X-WR-CALNAME"); UnescapeText(v) != long {
		t.Errorf("calendar name round trip = %q", UnescapeText(v))
	}
	uids := map[string]bool{}
	for i, ev := range comps[1:] {
		if ev.Name != "VEVENT" {
			t.Fatalf("component %d is %s", i, ev.Name)
		}
		for _, p := range []string{"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"} {
			if _, ok := ev.Get(p); !ok {
				t.Errorf("event %d lacks %s", i, p)
			}
		}
		uid, _ := ev.Get("UID")
		if uids[uid] {
			t.Errorf("UID %s repeats", uid)
		}
		uids[uid] = true
		for p, want := range map[string]time.Time{"DTSTAMP": stamp, "DTSTART": shifts[i].Start, "DTEND": shifts[i].End} {
			v, _ := ev.Get(p)
			got, err := ParseICSTime(v)
			if err != nil || !got.Equal(want) || !strings.HasSuffix(v, "Z") {
				t.Errorf("event %d %s = %q (%v), want %s in UTC", i, p, v, err, want)
			}
		}
		sum, _ := ev.Get("SUMMARY")
		if want := "On call: " + shifts[i].Person + " (" + long + ")"; UnescapeText(sum) != want {
			t.Errorf("SUMMARY = %q, want %q", UnescapeText(sum), want)
		}
		if bare := strings.NewReplacer(`\\`, "", `\,`, "", `\;`, "").Replace(sum); strings.ContainsAny(bare, ",;") {
			t.Errorf("SUMMARY has unescaped separators: %q", sum)
		}
	}
	// The UID of a shift is the same in every feed that contains it.
	var again bytes.Buffer
	_ = WriteICS(&again, Calendar{Name: "other", Shifts: shifts[:1], Stamp: stamp.Add(time.Hour)})
	comps2, err := ParseICS(again.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	u1, _ := comps[1].Get("UID")
	u2, _ := comps2[1].Get("UID")
	if u1 != u2 {
		t.Errorf("UID changed between feeds: %s vs %s", u1, u2)
	}
}

func TestParseICSRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":          "",
		"LF endings":     "BEGIN:VCALENDAR\nEND:VCALENDAR\n",
		"unclosed":       "BEGIN:VCALENDAR\r\n",
		"mismatched end": "BEGIN:VCALENDAR\r\nEND:VEVENT\r\n",
		"no colon":       "BEGIN:VCALENDAR\r\nSUMMARY\r\nEND:VCALENDAR\r\n",
		"outside block":  "SUMMARY:x\r\n",
		"leading fold":   " x\r\n",
	} {
		if _, err := ParseICS([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParseICS(f *testing.F) {
	var buf bytes.Buffer
	_ = WriteICS(&buf, Calendar{Name: "n", Stamp: time.Unix(0, 0), Shifts: []Shift{{Schedule: "s", Person: "p", Start: time.Unix(0, 0), End: time.Unix(3600, 0)}}})
	f.Add(buf.Bytes())
	f.Add([]byte("BEGIN:VCALENDAR\r\nX-A;P=\"a:b\":v\r\n  continued\r\nEND:VCALENDAR\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		comps, err := ParseICS(b)
		if err != nil {
			return
		}
		for _, c := range comps {
			for _, p := range c.Properties {
				if p.Name == "" {
					t.Fatalf("empty property name from %q", b)
				}
			}
		}
	})
}

// FuzzEscapeText: any text survives escaping, folding and parsing.
func FuzzEscapeText(f *testing.F) {
	for _, s := range []string{"", "a,b;c\\d\ne", "☎" + strings.Repeat("é", 80), "\r\n\r", "x\\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		want := strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
		if got := UnescapeText(EscapeText(s)); got != want {
			t.Fatalf("round trip %q -> %q", s, got)
		}
		var buf bytes.Buffer
		if err := WriteICS(&buf, Calendar{Name: s, Stamp: time.Unix(0, 0)}); err != nil {
			t.Fatal(err)
		}
		comps, err := ParseICS(buf.Bytes())
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		for _, line := range strings.Split(buf.String(), "\r\n") {
			if len(line) > 75 {
				t.Fatalf("line of %d octets", len(line))
			}
		}
		if s != "" {
			if v, _ := comps[0].Get("X-WR-CALNAME"); UnescapeText(v) != want {
				t.Fatalf("name %q came back as %q", want, UnescapeText(v))
			}
		}
	})
}
