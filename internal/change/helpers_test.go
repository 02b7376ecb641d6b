package change_test

import "github.com/tandemhq/tandem/internal/catalog"

func catalogOf(services ...string) *catalog.Catalog {
	var svcs []catalog.Service
	for _, s := range services {
		svcs = append(svcs, catalog.Service{Name: s, Team: "payments"})
	}
	return catalog.New([]catalog.Team{{Name: "payments"}}, nil, svcs, nil)
}
