//go:build !race

package moduletest_test

var raceFlags []string
