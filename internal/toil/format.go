package toil

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// WriteReport writes r as a table (aligned text), json or csv. The CSV has
// a header row and one row per group, then the total.
func WriteReport(w io.Writer, r Report, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"key", "entries", "hours", "previous_hours", "change", "trend", "oncall_hours", "oncall_share"})
		rows := r.Rows
		if r.By != ByNone {
			rows = append(append([]Row(nil), rows...), r.Total)
		}
		for _, row := range rows {
			_ = cw.Write([]string{row.Key, strconv.Itoa(row.Entries), ff(row.Hours), ff(row.PrevHours), optf(row.Change), row.Trend, optf(row.OncallHours), optf(row.OncallShare)})
		}
		cw.Flush()
		return cw.Error()
	case "table", "":
		fmt.Fprintf(w, "Toil %s to %s (previous: %s to %s)\n\n", r.Period.From.Format("2006-01-02"), r.Period.To.Format("2006-01-02"),
			r.Previous.From.Format("2006-01-02"), r.Previous.To.Format("2006-01-02"))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		key := r.By
		if key == "" {
			key = "scope"
		}
		fmt.Fprintf(tw, "%s\tentries\thours\tprevious\tchange\ttrend\ton-call share\t\n", key)
		line := func(row Row) {
			change := "-"
			if row.Change != nil {
				change = fmt.Sprintf("%+.0f%%", *row.Change*100)
			}
			share := "-"
			if row.OncallShare != nil {
				share = fmt.Sprintf("%.1f%%", *row.OncallShare*100)
			}
			fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%s\t%s\t%s\t\n", row.Key, row.Entries, row.Hours, row.PrevHours, change, row.Trend, share)
		}
		for _, row := range r.Rows {
			line(row)
		}
		if r.By != ByNone {
			line(r.Total)
		}
		return tw.Flush()
	}
	return fmt.Errorf("format: want table, json or csv, got %q", format)
}

func ff(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func optf(f *float64) string {
	if f == nil {
		return ""
	}
	return ff(*f)
}
