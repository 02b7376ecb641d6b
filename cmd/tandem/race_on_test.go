//go:build race

package main_test

// raceFlags builds the binary under test with the race detector when the
// tests run with it, so the build reuses the packages already compiled.
var raceFlags = []string{"-race"}
