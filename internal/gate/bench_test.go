package gate_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/cli"
)

// BenchmarkSLOGate is `tandem gate slo` end to end against a local tandem:
// the command function in-process, reading SLO statuses over HTTP,
// evaluating, recording the result, printing. Target: under 100 ms per op.
func BenchmarkSLOGate(b *testing.B) {
	srv := apptest.Start(b, apptest.Options{ConfigDir: configDir(b)})
	now := time.Now()
	ingest(b, srv.Client, "checkout-api-availability", now.Add(-2*time.Hour), now.Add(-time.Minute), 19990, 20000, "bench")
	args := []string{"--url", srv.URL, "--token", srv.AdminToken, "gate", "slo", "--service", "checkout",
		"--min-budget-remaining", "10%", "--max-burn-rate", "2", "--respect-freeze"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var out, errb bytes.Buffer
		if code := cli.Execute(context.Background(), args, strings.NewReader(""), &out, &errb); code != 0 {
			b.Fatalf("exit %d: %s %s", code, out.String(), errb.String())
		}
	}
}
