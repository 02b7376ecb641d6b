package db

import (
	"context"
	"fmt"
	"testing/fstest"
)

// OpenWithout opens the database with every migration applied except the
// versions in skip: the database of a release that did not have them yet.
func OpenWithout(ctx context.Context, opts Options, skip ...int64) (*DB, error) {
	d, err := open(ctx, opts)
	if err != nil {
		return nil, err
	}
	full, err := migrationFS(d.dialect)
	if err != nil {
		d.Close()
		return nil, err
	}
	fsys := full.(fstest.MapFS)
	for name := range fsys {
		for _, v := range skip {
			if len(name) > 5 && name[:5] == fmt.Sprintf("%05d", v) {
				delete(fsys, name)
			}
		}
	}
	if err := d.migrateFS(ctx, opts, fsys); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}
