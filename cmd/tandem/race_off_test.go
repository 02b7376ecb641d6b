//go:build !race

package main_test

// raceFlags is empty when the tests run without the race detector.
var raceFlags []string
