//go:build race

package client_test

// raceFlags passes the race detector on to the nested module's test when
// these tests run with it, so its builds reuse the packages already
// compiled.
var raceFlags = []string{"-race"}
