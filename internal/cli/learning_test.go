package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/internal/app/apptest"
)

func TestLearningCommands(t *testing.T) {
	s := apptest.Start(t, apptest.Options{})
	g := []string{"--url", s.URL, "--token", s.AdminToken}
	cmd := func(args ...string) (int, string, string) { return run(t, append(args, g...)...) }

	if code, out, errOut := cmd("toil", "log", "--minutes", "30", "--category", "restart", "--service", "checkout", "--who", "alice", "--note", "pod stuck", "--at", "2h"); code != 0 || !strings.Contains(out, "logged 30 min of restart") {
		t.Fatalf("toil log: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := cmd("toil", "log", "--minutes", "30", "--category", "restart", "--service", "chekout"); code != 1 || !strings.Contains(errOut, "checkout") {
		t.Errorf("toil log, unknown service: %d %s", code, errOut)
	}
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "jira.csv")
	if err := os.WriteFile(csvPath, []byte("Issue key,Summary,Created,Labels,Time Spent\nOPS-1,x,2026-11-02,toil:restart,3600\nOPS-2,y,not a date,toil,60\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := cmd("toil", "import", "csv", csvPath); code != 1 || !strings.Contains(errOut, "row 3 (OPS-2)") || !strings.Contains(errOut, "nothing imported") {
		t.Errorf("import with a bad row: %d %s", code, errOut)
	}
	if code, out, errOut := cmd("toil", "import", "csv", csvPath, "--skip-bad"); code != 0 || !strings.Contains(out, "imported 1 new") {
		t.Errorf("import --skip-bad: %d %s %s", code, out, errOut)
	}
	code, out, errOut := cmd("toil", "report", "--since", "3650d", "--by", "person", "--format", "csv")
	// alice 30 min; OPS-1 1 h without a person.
	if code != 0 || !strings.Contains(out, "(none),1,1,0,,new,,") || !strings.Contains(out, "alice,1,0.5,0,,new,") {
		t.Errorf("toil report csv: %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := cmd("toil", "report", "--month", "2026-11", "--by", "category"); code != 0 || !strings.Contains(out, "restart") {
		t.Errorf("toil report table: %d\n%s", code, out)
	}
	if code, out, _ := cmd("toil", "goals"); code != 0 || !strings.Contains(out, "fewer-data-restores") {
		t.Errorf("toil goals: %d\n%s", code, out)
	}
	if code, out, _ := cmd("okr", "status", "--quarter", "2026Q4", "--team", "payments"); code != 0 || !strings.Contains(out, "checkout-reliable") || !strings.Contains(out, "detect-faster") {
		t.Errorf("okr status: %d\n%s", code, out)
	} else if strings.Contains(out, "0.00") || !strings.Contains(out, "no data yet") || !strings.Contains(out, "no score yet") {
		// Nothing was measured on an empty server: no score of 0 beside
		// a state that reads as fine, but "no data yet".
		t.Errorf("okr status shows a number for key results without data:\n%s", out)
	}
	if code, out, _ := cmd("actions", "add", "Add a canary stage", "--owner", "bob", "--due", "2026-01-05"); code != 0 || !strings.Contains(out, "action item 1 added") {
		t.Errorf("actions add: %d %s", code, out)
	}
	if code, out, _ := cmd("actions", "list", "--overdue", "--owner", "bob"); code != 0 || !strings.Contains(out, "2026-01-05 OVERDUE") {
		t.Errorf("actions list: %d\n%s", code, out)
	}
	if code, out, _ := cmd("actions", "done", "1"); code != 0 || !strings.Contains(out, "is done") {
		t.Errorf("actions done: %d %s", code, out)
	}
	if code, out, _ := cmd("postmortem", "list"); code != 0 || !strings.HasPrefix(out, "ID") {
		t.Errorf("postmortem list: %d %s", code, out)
	}
	if code, _, errOut := cmd("postmortem", "export", "42"); code != 1 || !strings.Contains(errOut, "not_found") {
		t.Errorf("export missing: %d %s", code, errOut)
	}
}
