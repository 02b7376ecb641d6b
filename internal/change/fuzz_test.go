package change

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
)

// FuzzEventJSON: any JSON a client sends either fails Normalize with an
// invalid-input error naming a field, or gives an event the store can keep.
func FuzzEventJSON(f *testing.F) {
	f.Add([]byte(`{"service":"checkout","version":"1.2.3","commit":"abcdef1","finished_at":"2026-03-01T12:00:00Z","labels":["hotfix"]}`))
	f.Add([]byte(`{"service":"a","status":"in_progress","started_at":"2026-03-01T11:00:00Z"}`))
	f.Add([]byte(`{"service":"a","kind":"rollback","commits":["abc","abcdef1"],"links":{"ci":"x"}}`))
	f.Add([]byte(`{"service":"a","started_at":"2026-03-01T13:00:00Z","finished_at":"2026-03-01T12:00:00Z"}`))
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Event
		if json.Unmarshal(b, &e) != nil {
			return
		}
		err := e.Normalize("", now)
		if err != nil {
			var te *tandem.Error
			if tandem.ErrorCode(err) != tandem.EInvalid || !asErr(err, &te) || te.Field == "" {
				t.Fatalf("Normalize(%s) = %v, want an invalid error naming a field", b, err)
			}
			return
		}
		if !slices.Contains(Kinds, e.Kind) || !slices.Contains(Statuses, e.Status) || e.At().IsZero() || e.Environment == "" ||
			e.At().After(now.Add(MaxFuture)) || (e.Status != StatusInProgress) == e.FinishedAt.IsZero() {
			t.Fatalf("Normalize(%s) accepted %+v", b, e)
		}
	})
}

func asErr(err error, te **tandem.Error) bool {
	e, ok := err.(*tandem.Error)
	*te = e
	return ok
}

// FuzzTimeFromTagName: never panics; a time it finds is a real date.
func FuzzTimeFromTagName(f *testing.F) {
	for _, s := range []string{"deploy-app-2025-06-03-141500", "deploy-20250603141500", "x-9999-99-99", "v1.2.3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if at, ok := TimeFromTagName(name); ok && (at.Year() < 1971 || at.Location() != time.UTC) {
			t.Fatalf("%q -> %v", name, at)
		}
	})
}
