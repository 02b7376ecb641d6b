package catalog

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestClosest(t *testing.T) {
	names := []string{"payments", "platform", "search", "identity", "sre", "api", "tier", "team"}
	tests := []struct {
		name string
		want []string
	}{
		{"paymnts", []string{"payments"}}, // one deletion
		{"PAYMENTS", []string{"payments"}},
		{"teir", []string{"tier", "team"}},  // one swap counts 1; "team" is 2 away, within 4/2
		{"srch", []string{"search", "sre"}}, // both 2 away (two insertions; c→e and h deleted)
		{"db", nil},                         // "api" is 2 away, over the limit 1 for a 2-letter name
		{"plat", []string{"platform"}},      // contained: distance 1
		{"zzzzzzzz", nil},
		{"", nil},
	}
	for _, tt := range tests {
		if got := Closest(tt.name, names, 3); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Closest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := Closest("tem", []string{"team", "temp", "tea"}, 2); !reflect.DeepEqual(got, []string{"tea", "team"}) {
		t.Errorf("ties must sort by name and n must cap: %q", got)
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3},
		{"ab", "ba", 1}, {"abcd", "acbd", 1}, {"ca", "abc", 3}, {"zürich", "zurich", 1},
	}
	for _, tt := range tests {
		if got := distance(tt.a, tt.b); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func sample() *Catalog {
	return New(
		[]Team{{Name: "platform", DisplayName: "Platform", SlackChannel: "#platform"}, {Name: "sre"}},
		[]Person{{Name: "dave", FullName: "Dave Okafor", Email: "dave@example.com"}, {Name: "erin", Slack: "@erin"}},
		[]Service{{Name: "api", Team: "platform"}, {Name: "db", Team: "platform"}, {Name: "web", Team: "sre"}},
		[]Tool{
			{Name: "Terraform", PrimaryOwner: "platform", BackupOwner: "erin"},
			{Name: "grafana", Description: "Dashboards | graphs", PrimaryOwner: "sre", BackupOwner: "dave"},
			{Name: "Vault", PrimaryOwner: "dave"},
		},
	)
}

func TestLookups(t *testing.T) {
	c := sample()
	if _, ok := c.Tool("TERRAFORM"); !ok {
		t.Error("tool lookup ignores case")
	}
	if k, ok := c.Owner("dave"); !ok || k != OwnerPerson {
		t.Errorf("Owner(dave) = %v %v", k, ok)
	}
	if k, ok := c.Owner("sre"); !ok || k != OwnerTeam {
		t.Errorf("Owner(sre) = %v %v", k, ok)
	}
	if _, ok := c.Owner("nobody"); ok {
		t.Error("Owner(nobody) found")
	}
	if got := c.ServicesOfTeam("platform"); !reflect.DeepEqual(got, []string{"api", "db"}) {
		t.Errorf("ServicesOfTeam = %v", got)
	}
	if got := c.ServiceNames(); !reflect.DeepEqual(got, []string{"api", "db", "web"}) {
		t.Errorf("ServiceNames = %v", got)
	}
}

func TestWriteOwnership(t *testing.T) {
	rows := Ownership(sample())
	var md bytes.Buffer
	if err := WriteOwnership(&md, rows, "markdown"); err != nil {
		t.Fatal(err)
	}
	wantMD := `| Tool | Primary Owner | Backup Owner |
|------|---------------|--------------|
| grafana | sre | Dave Okafor (dave@example.com) |
| Terraform | Platform (#platform) | erin (@erin) |
| Vault | Dave Okafor (dave@example.com) |  |
`
	if md.String() != wantMD {
		t.Errorf("markdown:\n%s\nwant:\n%s", md.String(), wantMD)
	}
	var csv bytes.Buffer
	if err := WriteOwnership(&csv, rows, "csv"); err != nil {
		t.Fatal(err)
	}
	wantCSV := "Tool,Primary Owner,Primary Contact,Backup Owner,Backup Contact\n" +
		"grafana,sre,,Dave Okafor,dave@example.com\n" +
		"Terraform,Platform,#platform,erin,@erin\n" +
		"Vault,Dave Okafor,dave@example.com,,\n"
	if csv.String() != wantCSV {
		t.Errorf("csv:\n%s\nwant:\n%s", csv.String(), wantCSV)
	}
	var js bytes.Buffer
	if err := WriteOwnership(&js, rows, "json"); err != nil {
		t.Fatal(err)
	}
	var back []OwnershipRow
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || !reflect.DeepEqual(back, rows) {
		t.Errorf("json round trip: %v\n%s", err, js.String())
	}
	if err := WriteOwnership(&js, rows, "xml"); err == nil || !strings.Contains(err.Error(), "markdown, csv or json") {
		t.Errorf("unknown format: %v", err)
	}
	var empty bytes.Buffer
	WriteOwnership(&empty, nil, "json")
	if strings.TrimSpace(empty.String()) != "[]" {
		t.Errorf("empty json = %q, want []", empty.String())
	}
}
