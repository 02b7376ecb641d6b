package web

import "strconv"

// plural prints a count with its noun: "1 incident", "3 incidents".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
