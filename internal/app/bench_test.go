package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/app"
	"github.com/tandemhq/tandem/internal/app/apptest"
)

// BenchmarkStartEmptySQLite is `tandem serve`'s start-up on an empty SQLite
// directory: open the database and apply every migration, load the example
// config, wire every capability, build the router and listen. Target: under
// 1 s.
func BenchmarkStartEmptySQLite(b *testing.B) {
	cfg := apptest.ExamplesDir(b)
	var total time.Duration
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		start := time.Now()
		m, err := app.New(context.Background(), app.Options{Listen: "127.0.0.1:0", DataDir: dir, ConfigDir: cfg, Log: quiet()})
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Listen(); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		b.StopTimer()
		m.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/start")
}
