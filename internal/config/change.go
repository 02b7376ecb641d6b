package config

import "gopkg.in/yaml.v3"

// ChangeSection holds the top-level keys of a tandem document for change events, GitHub deploy webhooks and DORA metrics.
type ChangeSection struct{}

// ChangeConfig is the validated config for change events, GitHub deploy webhooks and DORA metrics.
type ChangeConfig struct{}

// collectChange files the section's items of one document, with their nodes.
func (l *loader) collectChange(file string, root *yaml.Node, d *document) {}

// buildChange validates the collected items (references into the catalog
// included) and fills l.cfg.Change.
func (l *loader) buildChange() {}
