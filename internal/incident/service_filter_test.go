package incident_test

import (
	"context"
	"slices"
	"testing"

	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/incident"
)

// The list's service filter matches a service name exactly, '_' and '%'
// included: service=node_exporter finds the node_exporter incident and
// not one on node-exporter or nodeXexporter, on both engines.
func TestListServiceFilterExact(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		ids := map[string]int64{}
		for _, svcs := range [][]string{{"node_exporter"}, {"nodeXexporter"}, {"node-exporter", "api"}, {"api", "100%_up"}} {
			inc, err := h.m.Open(ctx, incident.OpenInput{Title: "down", Services: svcs, Severity: "sev3", Actor: "test", NoPage: true})
			if err != nil {
				t.Fatal(err)
			}
			ids[svcs[0]] = inc.ID
		}
		for _, tt := range []struct {
			service string
			want    []int64
		}{
			{"node_exporter", []int64{ids["node_exporter"]}},
			{"node-exporter", []int64{ids["node-exporter"]}},
			{"api", []int64{ids["api"], ids["node-exporter"]}},
			{"100%_up", []int64{ids["api"]}},
			{"node%", nil},
			{"_", nil},
		} {
			l, err := h.m.List(ctx, incident.Filter{Service: tt.service})
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, inc := range l {
				got = append(got, inc.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("service=%s: incidents %v, want %v", tt.service, got, tt.want)
			}
		}
	})
}
