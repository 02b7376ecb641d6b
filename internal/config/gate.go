package config

import "gopkg.in/yaml.v3"

// GateSection holds the top-level keys of a tandem document for CI/CD gates, post-deploy verification and migration checks.
type GateSection struct{}

// GateConfig is the validated config for CI/CD gates, post-deploy verification and migration checks.
type GateConfig struct{}

// collectGate files the section's items of one document, with their nodes.
func (l *loader) collectGate(file string, root *yaml.Node, d *document) {}

// buildGate validates the collected items (references into the catalog
// included) and fills l.cfg.Gate.
func (l *loader) buildGate() {}
