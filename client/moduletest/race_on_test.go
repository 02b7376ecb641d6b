//go:build race

package moduletest_test

// raceFlags builds the server under test with the race detector when the
// test runs with it, so the build reuses the packages already compiled.
var raceFlags = []string{"-race"}
