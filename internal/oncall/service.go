package oncall

import (
	"context"
	"time"

	"github.com/tandemhq/tandem/internal/catalog"
)

// Service joins the live config with the stored overrides. The API, CLI
// server side, dashboard and incident engine use it; it holds no state of
// its own, so a config reload is seen by the next call.
type Service struct {
	Store *Store
	// Source returns the live on-call config and catalog (app wires it to
	// the config holder).
	Source func() (Config, *catalog.Catalog)
}

// Directory returns a Directory with the stored overrides that overlap
// [from, to) attached (zero bounds are open). Answers for instants inside
// [from, to) are exact.
func (s *Service) Directory(ctx context.Context, from, to time.Time) (*Directory, error) {
	cfg, cat := s.Source()
	var overrides []Override
	if s.Store != nil {
		var err error
		if overrides, err = s.Store.List(ctx, "", from, to); err != nil {
			return nil, err
		}
	}
	return NewDirectory(cfg, cat, overrides), nil
}

// DirectoryAt is Directory for the instant at.
func (s *Service) DirectoryAt(ctx context.Context, at time.Time) (*Directory, error) {
	return s.Directory(ctx, at, at.Add(time.Millisecond))
}

// Current returns, for every schedule, who is on call at now, until when,
// and who is next (the dashboard's on-call panel).
func (s *Service) Current(ctx context.Context, now time.Time) ([]Current, error) {
	d, err := s.Directory(ctx, now, now.Add(LookAhead))
	if err != nil {
		return nil, err
	}
	return d.Current(now), nil
}

// Resolve returns the people target pages at at, stored overrides included.
func (s *Service) Resolve(ctx context.Context, t Target, at time.Time) ([]string, error) {
	d, err := s.DirectoryAt(ctx, at)
	if err != nil {
		return nil, err
	}
	return d.Resolve(t, at), nil
}
