package app

import (
	"context"

	"github.com/tandemhq/tandem/internal/web"
)

// wireWeb builds the dashboard with the stores of every capability.
func (m *Main) wireWeb(ctx context.Context) error {
	m.API.Web = web.New(web.Deps{
		Config: m.Config, DB: m.DB, Tokens: m.Tokens, Log: m.Options.Log, Clock: m.Options.Clock,
		PublicRead: m.Options.PublicRead,
	})
	return nil
}
