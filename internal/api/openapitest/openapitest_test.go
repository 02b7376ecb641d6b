package openapitest_test

import (
	"slices"
	"testing"

	"github.com/tandemhq/tandem/internal/api/openapitest"
)

func TestLoad(t *testing.T) {
	doc, err := openapitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() || doc.IsOpenAPI32OrLater() {
		t.Errorf("openapi %q, want 3.1", doc.OpenAPI)
	}
	t.Logf("%d operations", len(openapitest.Routes(doc)))
}

// TestCompareFindsDrift checks the comparison the route test relies on
// sees a route missing from either side.
func TestCompareFindsDrift(t *testing.T) {
	registered := []string{"GET /a", "POST /a", "GET /b/{name}"}
	described := []string{"GET /a", "GET /b/{id}", "DELETE /c"}
	und, unreg := openapitest.Compare(registered, described)
	if !slices.Equal(und, []string{"POST /a"}) || !slices.Equal(unreg, []string{"DELETE /c"}) {
		t.Errorf("Compare: undescribed %v, unregistered %v; want [POST /a] and [DELETE /c]", und, unreg)
	}
	// Path parameters match whatever their names; the methods must match.
	if und, unreg := openapitest.Compare([]string{"GET /b/{token}", "PATCH /b/{id}"}, []string{"GET /b/{id}", "PATCH /b/{id}"}); und != nil || unreg != nil {
		t.Errorf("Compare with renamed parameters: %v %v", und, unreg)
	}
	if und, unreg := openapitest.Compare(described, described); und != nil || unreg != nil {
		t.Errorf("Compare of equal lists: %v %v", und, unreg)
	}
}
