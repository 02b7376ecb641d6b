package app

import (
	"context"

	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/oncall"
)

// wireOncall builds the on-call capability: the override store and the
// service that joins it with the live config (re-read on every call, so a
// config reload takes effect at once). The incident engine and the
// dashboard reach it as m.API.Oncall.Service.
func (m *Main) wireOncall(ctx context.Context) error {
	m.API.Oncall.Service = &oncall.Service{
		Store: oncall.NewStore(m.DB),
		Source: func() (oncall.Config, *catalog.Catalog) {
			c := m.Config.Get()
			return c.Oncall.Config, c.Catalog
		},
	}
	return nil
}
