package config

import "gopkg.in/yaml.v3"

// SLOSection holds the top-level keys of a tandem document for SLOs, SLI ingest, error budgets and burn-rate alerts.
type SLOSection struct{}

// SLOConfig is the validated config for SLOs, SLI ingest, error budgets and burn-rate alerts.
type SLOConfig struct{}

// collectSLO files the section's items of one document, with their nodes.
func (l *loader) collectSLO(file string, root *yaml.Node, d *document) {}

// buildSLO validates the collected items (references into the catalog
// included) and fills l.cfg.SLO.
func (l *loader) buildSLO() {}
