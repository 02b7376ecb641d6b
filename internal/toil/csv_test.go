package toil

import (
	"errors"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/catalog"
)

func testCatalog() *catalog.Catalog {
	return catalog.New(
		[]catalog.Team{{Name: "platform"}, {Name: "payments"}},
		[]catalog.Person{{Name: "dave", FullName: "Dave Okafor", Team: "platform"}, {Name: "alice", FullName: "Alice Kowalski", Email: "alice@example.com", Team: "payments"}},
		[]catalog.Service{{Name: "postgres-main", Team: "platform"}, {Name: "checkout", Team: "payments"}},
		nil)
}

func containsField(err error, field string) bool {
	var te *tandem.Error
	return errors.As(err, &te) && strings.HasSuffix(te.Field, field)
}

const jiraCSV = `Summary,Issue key,Issue id,Issue Type,Status,Assignee,Created,Resolved,Labels,Labels,Component/s,Time Spent
Restart stuck replica,OPS-1,10001,Task,Done,Dave Okafor,02/Nov/26 9:15 AM,02/Nov/26 10:00 AM,toil,toil:restart,postgres-main,2700
Restore order rows,OPS-2,10002,Task,Done,alice@example.com,03/Nov/26 1:00 PM,,toil:data-restore,service:checkout,,3600
Feature work,OPS-3,10003,Story,Done,Dave Okafor,03/Nov/26 1:00 PM,,feature,,,7200
Rotate certs,OPS-4,10004,Task,Done,Dave Okafor,yesterday,,toil,,,600
No time logged,OPS-5,10005,Task,Done,Dave Okafor,2026-11-04,,toil,,,
Bad service,OPS-6,10006,Task,Done,Dave Okafor,2026-11-04,,toil,service:chekout,,60
`

func TestParseCSVJira(t *testing.T) {
	res, err := ParseCSV(strings.NewReader(jiraCSV), ImportOptions{Catalog: testCatalog()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Format != FormatJira || res.Skipped != 1 {
		t.Errorf("format %s skipped %d", res.Format, res.Skipped)
	}
	if len(res.Entries) != 2 {
		t.Fatalf("entries = %+v", res.Entries)
	}
	e := res.Entries[0]
	// OPS-1: 2700 s = 45 min, resolved 10:00, component names a service.
	if e.ExternalID != "OPS-1" || e.Minutes != 45 || e.Category != "restart" || e.Service != "postgres-main" ||
		e.Team != "platform" || e.Person != "dave" || !e.At.Equal(at("2026-11-02T10:00:00Z")) || e.Source != "jira" {
		t.Errorf("OPS-1 = %+v", e)
	}
	e = res.Entries[1]
	if e.Minutes != 60 || e.Category != "data-restore" || e.Service != "checkout" || e.Team != "payments" || e.Person != "alice" {
		t.Errorf("OPS-2 = %+v", e)
	}
	// Every bad row, with its line (header is line 1).
	want := []struct {
		row   int
		field string
	}{{5, "Resolved/Created"}, {6, "time"}, {7, "service"}}
	if len(res.Bad) != len(want) {
		t.Fatalf("bad = %+v", res.Bad)
	}
	for i, w := range want {
		if res.Bad[i].Row != w.row || res.Bad[i].Field != w.field {
			t.Errorf("bad[%d] = %+v, want row %d field %s", i, res.Bad[i], w.row, w.field)
		}
	}
	if !strings.Contains(res.Bad[2].Message, "postgres-main") && !strings.Contains(res.Bad[2].Message, "checkout") {
		t.Errorf("no close names: %s", res.Bad[2].Message)
	}
}

const linearCSV = `ID,Team,Title,Description,Status,Estimate,Priority,Project,Creator,Assignee,Labels,Created,Updated,Completed
ENG-10,Platform,Renew certificate,,Done,2,,postgres-main,dave,Dave Okafor,"toil, toil:cert-renewal",2026-11-05T08:00:00.000Z,,2026-11-05T09:00:00.000Z
ENG-11,Platform,Clear queue,,Done,,,,dave,dave,"toil,time:1h30m",2026-11-06T08:00:00.000Z,,
ENG-12,Platform,Refactor,,Done,3,,,dave,dave,improvement,2026-11-06T08:00:00.000Z,,
`

func TestParseCSVLinear(t *testing.T) {
	res, err := ParseCSV(strings.NewReader(linearCSV), ImportOptions{Catalog: testCatalog(), MinutesPerPoint: 30})
	if err != nil {
		t.Fatal(err)
	}
	if res.Format != FormatLinear || len(res.Bad) != 0 || res.Skipped != 1 || len(res.Entries) != 2 {
		t.Fatalf("res = %+v", res)
	}
	// ENG-10: 2 points x 30 min = 60 min, completed 09:00.
	e := res.Entries[0]
	if e.Minutes != 60 || e.Category != "cert-renewal" || e.Service != "postgres-main" || !e.At.Equal(at("2026-11-05T09:00:00Z")) || e.Source != "linear" {
		t.Errorf("ENG-10 = %+v", e)
	}
	// ENG-11: time label 1h30m = 90 min, category defaults to other.
	if e := res.Entries[1]; e.Minutes != 90 || e.Category != "other" || e.Team != "platform" {
		t.Errorf("ENG-11 = %+v", e)
	}
}

func TestParseCSVWholeFileErrors(t *testing.T) {
	for name, in := range map[string]string{
		"empty":          "",
		"unknown format": "a,b,c\n1,2,3\n",
		"jira no date":   "Issue key,Summary\nOPS-1,x\n",
	} {
		if _, err := ParseCSV(strings.NewReader(in), ImportOptions{}); tandem.ErrorCode(err) != tandem.EInvalid {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func FuzzParseCSV(f *testing.F) {
	f.Add(jiraCSV)
	f.Add(linearCSV)
	f.Add("at,minutes,category\n2026-11-01,30,restart\n")
	f.Add("Issue key,Created,Labels\n\"OPS-1,2026-11-01,toil\n")
	f.Fuzz(func(t *testing.T, in string) {
		res, err := ParseCSV(strings.NewReader(in), ImportOptions{Catalog: testCatalog()})
		if err != nil {
			return
		}
		for _, e := range res.Entries {
			if err := e.Validate(); err != nil {
				t.Fatalf("invalid entry returned: %+v: %v", e, err)
			}
		}
	})
}
