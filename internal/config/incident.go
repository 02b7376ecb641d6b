package config

import "gopkg.in/yaml.v3"

// IncidentSection holds the top-level keys of a tandem document for incidents, inbound alerts, notifications and the job engine.
type IncidentSection struct{}

// IncidentConfig is the validated config for incidents, inbound alerts, notifications and the job engine.
type IncidentConfig struct{}

// collectIncident files the section's items of one document, with their nodes.
func (l *loader) collectIncident(file string, root *yaml.Node, d *document) {}

// buildIncident validates the collected items (references into the catalog
// included) and fills l.cfg.Incident.
func (l *loader) buildIncident() {}
