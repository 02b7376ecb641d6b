// Package docs holds what the binary serves from docs/: the OpenAPI
// description of the HTTP API.
package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml, the OpenAPI 3.1 description of every route
// the server registers (internal/api checks that it is complete, and its
// tests validate their requests and responses against it).
//
//go:embed openapi.yaml
var OpenAPI []byte
