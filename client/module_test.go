package client_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The client works from another module: moduletest is one (its own go.mod,
// with a replace to this repository), whose test records a deploy, reads
// DORA and acknowledges an incident through the client on a real server.
// `go test ./...` here does not descend into a nested module, so this test
// runs it.
func TestClientFromAnotherModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts tandem")
	}
	cmd := exec.Command("go", append(append([]string{"test", "-count=1"}, raceFlags...), "./...")...)
	cmd.Dir = "moduletest"
	// GOWORK=off: the module stands alone, as another project would.
	// -mod=mod: go.sum gains what a dependency added to tandem's go.mod
	// needs, rather than the test failing on a missing entry.
	cmd.Env = append(os.Environ(), "GOWORK=off", strings.TrimSpace("GOFLAGS="+os.Getenv("GOFLAGS")+" -mod=mod"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test in client/moduletest: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
