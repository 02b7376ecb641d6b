// Package examples ships the sample configuration inside the binary, so
// `tandem demo` runs anywhere.
package examples

import "embed"

// Config is examples/tandem.d: a realistic sample organisation.
//
//go:embed tandem.d
var Config embed.FS
