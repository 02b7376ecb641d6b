package migration

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
)

// WriteText writes the report for people: one line per finding
// (file:line:col: severity rule (class): message) with why and the safe
// alternative under it, one line per file with its class, and a summary.
// base is prefixed to file paths (the directory as the user gave it).
func WriteText(w io.Writer, r Report, base string) error {
	var b strings.Builder
	for _, f := range r.Findings() {
		class := ""
		if f.Class != "" {
			class = " (" + string(f.Class) + ")"
		}
		fmt.Fprintf(&b, "%s:%d:%d: %s %s%s: %s\n", joinPath(base, f.File), f.Line, f.Column, f.Severity, f.Rule, class, f.Message)
		if f.AllowedBy != "" {
			fmt.Fprintf(&b, "    allowed by: %s\n", f.AllowedBy)
		}
		fmt.Fprintf(&b, "    why: %s\n    instead: %s\n", f.Why, f.Alternative)
	}
	if len(r.Files) > 0 && len(r.Findings()) > 0 {
		b.WriteString("\n")
	}
	counts := map[Class]int{}
	for _, f := range r.Files {
		counts[f.Class]++
		fmt.Fprintf(&b, "%-11s %s\n", f.Class, joinPath(base, f.Path))
	}
	verdict := "PASS"
	if !r.Passed() {
		verdict = "FAIL"
	}
	unknown := ""
	if counts[Unknown] > 0 {
		unknown = fmt.Sprintf(", %d unknown", counts[Unknown])
	}
	fmt.Fprintf(&b, "%d files: %d safe, %d risky, %d destructive%s; %d errors, %d warnings, %d allowed: %s\n",
		len(r.Files), counts[Safe], counts[Risky], counts[Destructive], unknown, r.Errors, r.Warnings, r.Allowed, verdict)
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonReport is the JSON form: the report plus its verdict.
type jsonReport struct {
	Passed bool `json:"passed"`
	Report
}

// WriteJSON writes the report as one JSON object: passed, class, counts and
// files with their findings.
func WriteJSON(w io.Writer, r Report) error {
	if r.Files == nil {
		r.Files = []FileResult{}
	}
	for i := range r.Files {
		if r.Files[i].Findings == nil {
			r.Files[i].Findings = []Finding{}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(jsonReport{Passed: r.Passed(), Report: r})
}

// SARIF 2.1.0 types: the subset code scanning tools read.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string            `json:"id"`
	ShortDescription     sarifText         `json:"shortDescription"`
	FullDescription      sarifText         `json:"fullDescription"`
	Help                 sarifText         `json:"help"`
	DefaultConfiguration sarifConfig       `json:"defaultConfiguration"`
	Properties           map[string]string `json:"properties,omitempty"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID       string             `json:"ruleId"`
	RuleIndex    int                `json:"ruleIndex"`
	Level        string             `json:"level"`
	Message      sarifText          `json:"message"`
	Locations    []sarifLocation    `json:"locations"`
	Suppressions []sarifSuppression `json:"suppressions,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification,omitempty"`
}

// WriteSARIF writes the report as a SARIF 2.1.0 log for code-scanning
// tools. Every rule and check is listed in the driver; errors are level
// "error", warnings "warning", and allowed findings "note" with a
// suppression carrying the reason. URIs are base/path relative to
// %SRCROOT%.
func WriteSARIF(w io.Writer, r Report, base, version string) error {
	all := append(append([]Rule{}, Rules...), Checks...)
	index := map[string]int{}
	rules := make([]sarifRule, len(all))
	for i, rule := range all {
		index[rule.ID] = i
		level := "error"
		props := map[string]string{}
		if rule.Class != "" {
			props["class"] = string(rule.Class)
			if rule.Class == Risky {
				level = "warning"
			}
		}
		rules[i] = sarifRule{
			ID:                   rule.ID,
			ShortDescription:     sarifText{rule.ID},
			FullDescription:      sarifText{rule.Why},
			Help:                 sarifText{"Instead: " + rule.Alternative},
			DefaultConfiguration: sarifConfig{level},
			Properties:           props,
		}
		if len(props) == 0 {
			rules[i].Properties = nil
		}
	}
	results := []sarifResult{}
	for _, f := range r.Findings() {
		res := sarifResult{
			RuleID: f.Rule, RuleIndex: index[f.Rule],
			Message: sarifText{f.Message + ". " + f.Why + " Instead: " + f.Alternative},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
				ArtifactLocation: sarifArtifact{URI: joinPath(base, f.File), URIBaseID: "%SRCROOT%"},
				Region:           sarifRegion{StartLine: f.Line, StartColumn: f.Column},
			}}},
		}
		switch f.Severity {
		case SeverityError:
			res.Level = "error"
		case SeverityWarning:
			res.Level = "warning"
		default:
			res.Level = "note"
			kind := "inSource"
			if strings.HasPrefix(f.AllowedBy, "--allow") {
				kind = "external"
			}
			res.Suppressions = []sarifSuppression{{Kind: kind, Justification: f.AllowedBy}}
		}
		results = append(results, res)
	}
	log := sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs: []sarifRun{{
			Tool: sarifTool{Driver: sarifDriver{
				Name: "tandem migrate lint", InformationURI: "https://github.com/tandemhq/tandem/blob/main/docs/migrations.md",
				Version: version, Rules: rules,
			}},
			Results: results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(log)
}

func joinPath(base, p string) string {
	if base == "" || base == "." {
		return p
	}
	return path.Join(strings.ReplaceAll(base, "\\", "/"), p)
}
