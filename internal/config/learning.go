package config

import "gopkg.in/yaml.v3"

// LearningSection holds the top-level keys of a tandem document for postmortems, action items, toil and reliability OKRs.
type LearningSection struct{}

// LearningConfig is the validated config for postmortems, action items, toil and reliability OKRs.
type LearningConfig struct{}

// collectLearning files the section's items of one document, with their nodes.
func (l *loader) collectLearning(file string, root *yaml.Node, d *document) {}

// buildLearning validates the collected items (references into the catalog
// included) and fills l.cfg.Learning.
func (l *loader) buildLearning() {}
