package toil

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// BenchmarkBuildReport groups a year of toil for a large organisation:
// 100,000 entries by person.
func BenchmarkBuildReport(b *testing.B) {
	start := at("2026-01-01T00:00:00Z")
	entries := make([]Entry, 100000)
	for i := range entries {
		entries[i] = Entry{At: start.Add(time.Duration(i) * 5 * time.Minute), Minutes: 10 + i%50, Category: fmt.Sprintf("c%d", i%12), Person: fmt.Sprintf("p%d", i%300)}
	}
	cur, prev, _ := MonthPeriod("2026-06")
	b.ResetTimer()
	for b.Loop() {
		BuildReport(entries, cur, prev, ByPerson, nil)
	}
}

// BenchmarkParseCSV reads a 10,000-row Jira export.
func BenchmarkParseCSV(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("Summary,Issue key,Created,Labels,Labels,Time Spent\n")
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(&sb, "Restart %d,OPS-%d,2026-11-02T10:00:00Z,toil,toil:restart,1800\n", i, i)
	}
	in := sb.String()
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := ParseCSV(strings.NewReader(in), ImportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
