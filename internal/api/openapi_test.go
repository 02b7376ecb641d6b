package api_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/tandemhq/tandem/docs"
	"github.com/tandemhq/tandem/internal/api/openapitest"
	"github.com/tandemhq/tandem/internal/app/apptest"
)

// TestMain reports how much of the package's API traffic was validated
// against docs/openapi.yaml (servers started with apptest.Options.OpenAPI).
func TestMain(m *testing.M) {
	code := m.Run()
	if c := openapitest.Total(); c.Validated+c.Unrouted > 0 && testing.Verbose() {
		fmt.Printf("openapi: %d requests validated with their responses against docs/openapi.yaml (%d of them invalid by design and refused), %d matching no operation; operations exercised: %d\n",
			c.Validated, c.Rejected, c.Unrouted, len(openapitest.Operations()))
		if os.Getenv("TANDEM_OPENAPI_OPS") != "" {
			fmt.Println(strings.Join(openapitest.Operations(), "\n"))
		}
	}
	os.Exit(code)
}

// TestOpenAPIDescribesEveryRoute checks that docs/openapi.yaml describes
// every route the server registers, and only those. The example config
// turns every capability on, so every route is registered.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	s := apptest.Start(t, apptest.Options{})
	doc, err := openapitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	registered, described := s.Main.API.Routes(), openapitest.Routes(doc)
	if len(registered) < 90 {
		t.Fatalf("the server registers %d routes; the example config should turn every capability on", len(registered))
	}
	undescribed, unregistered := openapitest.Compare(registered, described)
	if len(undescribed) > 0 {
		t.Errorf("routes the server registers that docs/openapi.yaml does not describe:\n  %s", strings.Join(undescribed, "\n  "))
	}
	if len(unregistered) > 0 {
		t.Errorf("routes docs/openapi.yaml describes that the server does not register:\n  %s", strings.Join(unregistered, "\n  "))
	}
	// Every operation names the scope it needs.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			switch op.Extensions["x-tandem-scope"] {
			case "none", "read", "write", "admin", "signature", "signed-link":
			default:
				t.Errorf("%s %s: x-tandem-scope is %v; want none, read, write, admin, signature or signed-link", method, path, op.Extensions["x-tandem-scope"])
			}
		}
	}
}

// TestOpenAPIServed checks the server serves its description, without a
// token, as the binary embeds it.
func TestOpenAPIServed(t *testing.T) {
	s := apptest.Start(t, apptest.Options{OpenAPI: true})
	code, hdr, b := call(t, "GET", s.URL+"/api/v1/openapi.yaml", "", nil)
	if code != 200 || hdr.Get("Content-Type") != "application/yaml" {
		t.Fatalf("GET /api/v1/openapi.yaml: %d %s", code, hdr.Get("Content-Type"))
	}
	if !bytes.Equal(b, docs.OpenAPI) {
		t.Errorf("served description differs from docs/openapi.yaml (%d bytes, want %d)", len(b), len(docs.OpenAPI))
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil || !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("served description: %v, openapi %q", err, doc.OpenAPI)
	}
}
