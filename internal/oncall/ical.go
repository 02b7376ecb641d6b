package oncall

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Calendar is an iCalendar feed of shifts.
type Calendar struct {
	Name   string    // X-WR-CALNAME, shown by calendar apps
	Shifts []Shift   // one VEVENT each
	Stamp  time.Time // DTSTAMP: when the feed was generated
	// Host names the producer in UIDs (default "tandem").
	Host string
}

const icsTime = "20060102T150405Z"

// WriteICS writes cal as an RFC 5545 VCALENDAR: CRLF line endings, lines
// folded at 75 octets, TEXT values escaped, times in UTC, and a UID per
// shift that stays the same across feeds (schedule, person and start).
func WriteICS(w io.Writer, cal Calendar) error {
	host := cal.Host
	if host == "" {
		host = "tandem"
	}
	bw := bufio.NewWriter(w)
	line := func(name, value string) { writeFolded(bw, name+":"+value) }
	line("BEGIN", "VCALENDAR")
	line("VERSION", "2.0")
	line("PRODID", "-//tandem//on-call schedules//EN")
	line("CALSCALE", "GREGORIAN")
	line("METHOD", "PUBLISH")
	if cal.Name != "" {
		line("X-WR-CALNAME", EscapeText(cal.Name))
	}
	stamp := cal.Stamp.UTC().Format(icsTime)
	for _, sh := range cal.Shifts {
		line("BEGIN", "VEVENT")
		line("UID", shiftUID(sh)+"@"+host)
		line("DTSTAMP", stamp)
		line("DTSTART", sh.Start.UTC().Format(icsTime))
		line("DTEND", sh.End.UTC().Format(icsTime))
		line("SUMMARY", EscapeText(fmt.Sprintf("On call: %s (%s)", sh.Person, sh.Schedule)))
		desc := fmt.Sprintf("%s is on call for schedule %s", sh.Person, sh.Schedule)
		if sh.Layer != "" {
			desc += ", layer " + sh.Layer
		}
		line("DESCRIPTION", EscapeText(desc+"."))
		line("CATEGORIES", EscapeText("on-call,"+sh.Schedule))
		line("TRANSP", "TRANSPARENT")
		line("END", "VEVENT")
	}
	line("END", "VCALENDAR")
	return bw.Flush()
}

func shiftUID(sh Shift) string {
	h := sha256.Sum256([]byte(sh.Schedule + "\x00" + sh.Person + "\x00" + sh.Start.UTC().Format(time.RFC3339Nano)))
	return hex.EncodeToString(h[:12])
}

// writeFolded writes one content line, folded so that no physical line is
// longer than 75 octets (continuations start with a space) and never
// inside a UTF-8 sequence, each ended by CRLF.
func writeFolded(w *bufio.Writer, s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		w.WriteString(s[:cut])
		w.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space counts
	}
	w.WriteString(s)
	w.WriteString("\r\n")
}

// EscapeText escapes a TEXT value (RFC 5545 3.3.11): backslash, semicolon,
// comma and newline.
func EscapeText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', ';', ',':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				continue // CRLF becomes one \n
			}
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// UnescapeText reverses EscapeText; an unknown escape keeps its character.
func UnescapeText(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'n', 'N':
			b.WriteByte('\n')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// Property is one content line of an iCalendar stream, unfolded: the name
// (upper case), its parameters as written, and the raw value.
type Property struct {
	Name   string
	Params string
	Value  string
}

// Component is a parsed BEGIN…END block with its properties (nested
// components are flattened into Components in document order).
type Component struct {
	Name       string
	Properties []Property
}

// Get returns the first value of the named property and whether it exists.
func (c Component) Get(name string) (string, bool) {
	for _, p := range c.Properties {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// maxICSSize bounds what ParseICS reads.
const maxICSSize = 8 << 20

// ParseICS reads an iCalendar stream strictly: every line must end with
// CRLF, continuation lines start with a space or tab, each content line has
// a name and a colon, and BEGIN/END blocks must nest. It returns every
// component in document order. It exists to check feeds (tests, imports of
// external calendars) and never panics on any input.
func ParseICS(b []byte) ([]Component, error) {
	if len(b) > maxICSSize {
		return nil, fmt.Errorf("calendar larger than %d bytes", maxICSSize)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("empty calendar")
	}
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		return nil, fmt.Errorf("last line does not end with CRLF")
	}
	raw := strings.Split(string(b[:len(b)-2]), "\r\n")
	var lines []string
	for i, l := range raw {
		if strings.ContainsAny(l, "\r\n") {
			return nil, fmt.Errorf("line %d: bare CR or LF; lines must end with CRLF", i+1)
		}
		if len(l) > 0 && (l[0] == ' ' || l[0] == '\t') {
			if len(lines) == 0 {
				return nil, fmt.Errorf("line %d: continuation before any content line", i+1)
			}
			lines[len(lines)-1] += l[1:]
			continue
		}
		if l == "" {
			return nil, fmt.Errorf("line %d: empty line", i+1)
		}
		lines = append(lines, l)
	}
	var out []Component
	var stack []int // indexes into out
	for i, l := range lines {
		p, err := parseContentLine(l)
		if err != nil {
			return nil, fmt.Errorf("content line %d: %w", i+1, err)
		}
		switch p.Name {
		case "BEGIN":
			out = append(out, Component{Name: strings.ToUpper(p.Value)})
			stack = append(stack, len(out)-1)
			continue
		case "END":
			if len(stack) == 0 || out[stack[len(stack)-1]].Name != strings.ToUpper(p.Value) {
				return nil, fmt.Errorf("content line %d: END:%s does not close an open block", i+1, p.Value)
			}
			stack = stack[:len(stack)-1]
			continue
		}
		if len(stack) == 0 {
			return nil, fmt.Errorf("content line %d: property %s outside any block", i+1, p.Name)
		}
		top := &out[stack[len(stack)-1]]
		top.Properties = append(top.Properties, p)
	}
	if len(stack) > 0 {
		return nil, fmt.Errorf("block %s is not closed", out[stack[len(stack)-1]].Name)
	}
	return out, nil
}

// parseContentLine splits "NAME;PARAM=x:value", skipping colons inside
// quoted parameter values.
func parseContentLine(l string) (Property, error) {
	inQuote := false
	for i := 0; i < len(l); i++ {
		switch l[i] {
		case '"':
			inQuote = !inQuote
		case ':':
			if inQuote {
				continue
			}
			head := l[:i]
			name, params, _ := strings.Cut(head, ";")
			if name == "" {
				return Property{}, fmt.Errorf("missing property name")
			}
			for _, c := range name {
				if !(c == '-' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
					return Property{}, fmt.Errorf("invalid property name %q", name)
				}
			}
			return Property{Name: strings.ToUpper(name), Params: params, Value: l[i+1:]}, nil
		}
	}
	return Property{}, fmt.Errorf("no colon in %q", truncate(l, 40))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ParseICSTime reads a DATE-TIME value in UTC form ("20260329T070000Z").
func ParseICSTime(v string) (time.Time, error) {
	return time.Parse(icsTime, v)
}
