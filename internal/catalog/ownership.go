package catalog

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// OwnerRef is a resolved owner with how to reach it.
type OwnerRef struct {
	Name    string    `json:"name"`
	Kind    OwnerKind `json:"kind"`
	Display string    `json:"display"`
	Contact string    `json:"contact,omitempty"` // email or Slack for people, Slack channel for teams
}

// OwnershipRow is one line of the tool-ownership table.
type OwnershipRow struct {
	Tool        string    `json:"tool"`
	Description string    `json:"description,omitempty"`
	URL         string    `json:"url,omitempty"`
	Primary     OwnerRef  `json:"primary_owner"`
	Backup      *OwnerRef `json:"backup_owner,omitempty"`
}

func (c *Catalog) ref(name string) OwnerRef {
	kind, _ := c.Owner(name)
	r := OwnerRef{Name: name, Kind: kind, Display: name}
	switch kind {
	case OwnerTeam:
		t, _ := c.Team(name)
		if t.DisplayName != "" {
			r.Display = t.DisplayName
		}
		r.Contact = t.SlackChannel
	case OwnerPerson:
		p, _ := c.Person(name)
		if p.FullName != "" {
			r.Display = p.FullName
		}
		r.Contact = p.Email
		if r.Contact == "" {
			r.Contact = p.Slack
		}
	}
	return r
}

// Ownership returns the tool-ownership table, sorted by tool name.
func Ownership(c *Catalog) []OwnershipRow {
	rows := make([]OwnershipRow, 0, len(c.Tools))
	for _, t := range c.Tools {
		row := OwnershipRow{Tool: t.Name, Description: t.Description, URL: t.URL, Primary: c.ref(t.PrimaryOwner)}
		if t.BackupOwner != "" {
			b := c.ref(t.BackupOwner)
			row.Backup = &b
		}
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool { return strings.ToLower(rows[i].Tool) < strings.ToLower(rows[j].Tool) })
	return rows
}

// WriteOwnership writes the table as markdown, csv or json.
func WriteOwnership(w io.Writer, rows []OwnershipRow, format string) error {
	cell := func(r *OwnerRef) string {
		if r == nil {
			return ""
		}
		s := r.Display
		if r.Contact != "" {
			s += " (" + r.Contact + ")"
		}
		return s
	}
	switch format {
	case "markdown", "md", "":
		fmt.Fprintln(w, "| Tool | Primary Owner | Backup Owner |")
		fmt.Fprintln(w, "|------|---------------|--------------|")
		esc := strings.NewReplacer("|", `\|`, "\n", " ")
		for _, r := range rows {
			fmt.Fprintf(w, "| %s | %s | %s |\n", esc.Replace(r.Tool), esc.Replace(cell(&r.Primary)), esc.Replace(cell(r.Backup)))
		}
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"Tool", "Primary Owner", "Primary Contact", "Backup Owner", "Backup Contact"})
		for _, r := range rows {
			rec := []string{r.Tool, r.Primary.Display, r.Primary.Contact, "", ""}
			if r.Backup != nil {
				rec[3], rec[4] = r.Backup.Display, r.Backup.Contact
			}
			_ = cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if rows == nil {
			rows = []OwnershipRow{}
		}
		return enc.Encode(rows)
	}
	return fmt.Errorf("unknown format %q: want markdown, csv or json", format)
}
