package cli

import (
	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/gate"
	"github.com/tandemhq/tandem/internal/toil"
)

// The CLI talks to the server in the client's public types and does its
// local work (reading Git, formatting checks and reports) with the
// capability packages' types. Both are the API's wire shape field for
// field, so each conversion below is a Go struct conversion: it stops
// compiling the day the two shapes part.

// clientCommits converts commits read from a repository for RecordCommits.
func clientCommits(cs []change.Commit) []client.Commit {
	out := make([]client.Commit, len(cs))
	for i, c := range cs {
		out[i] = client.Commit(c)
	}
	return out
}

// gateChecks converts checks for the gate package's verdict and
// formatting.
func gateChecks(cs []client.GateCheck) []gate.Check {
	out := make([]gate.Check, len(cs))
	for i, c := range cs {
		out[i] = gate.Check(c)
	}
	return out
}

// clientToilImport converts entries read from GitHub issues for
// ImportToilEntries.
func clientToilImport(res toil.ImportResult) client.ToilImportResult {
	out := client.ToilImportResult{Format: res.Format, Skipped: res.Skipped}
	if res.Entries != nil {
		out.Entries = make([]client.ToilEntry, len(res.Entries))
		for i, e := range res.Entries {
			out.Entries[i] = client.ToilEntry(e)
		}
	}
	if res.Bad != nil {
		out.Bad = make([]client.ToilRowError, len(res.Bad))
		for i, b := range res.Bad {
			out.Bad[i] = client.ToilRowError(b)
		}
	}
	return out
}

// toilReport converts the server's toil report for toil.WriteReport.
func toilReport(r client.ToilReport) toil.Report {
	out := toil.Report{Period: toil.Period(r.Period), Previous: toil.Period(r.Previous), By: r.By, Total: toil.Row(r.Total)}
	if r.Rows != nil {
		out.Rows = make([]toil.Row, len(r.Rows))
		for i, row := range r.Rows {
			out.Rows[i] = toil.Row(row)
		}
	}
	return out
}

// ownershipRows converts the server's tool-ownership table for
// catalog.WriteOwnership.
func ownershipRows(rows []client.OwnershipRow) []catalog.OwnershipRow {
	out := make([]catalog.OwnershipRow, len(rows))
	for i, r := range rows {
		out[i] = catalog.OwnershipRow{Tool: r.Tool, Description: r.Description, URL: r.URL, Primary: ownerRef(r.Primary)}
		if r.Backup != nil {
			b := ownerRef(*r.Backup)
			out[i].Backup = &b
		}
	}
	return out
}

func ownerRef(r client.OwnerRef) catalog.OwnerRef {
	return catalog.OwnerRef{Name: r.Name, Kind: catalog.OwnerKind(r.Kind), Display: r.Display, Contact: r.Contact}
}
