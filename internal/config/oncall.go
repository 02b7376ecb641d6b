package config

import "gopkg.in/yaml.v3"

// OncallSection holds the top-level keys of a tandem document for on-call schedules, overrides and escalation policies.
type OncallSection struct{}

// OncallConfig is the validated config for on-call schedules, overrides and escalation policies.
type OncallConfig struct{}

// collectOncall files the section's items of one document, with their nodes.
func (l *loader) collectOncall(file string, root *yaml.Node, d *document) {}

// buildOncall validates the collected items (references into the catalog
// included) and fills l.cfg.Oncall.
func (l *loader) buildOncall() {}
