package web

import (
	"html/template"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/tandemhq/tandem/internal/web/chart"
)

// rowHTML renders one overview row. The overview can list hundreds of
// services; building rows with a strings.Builder is several times cheaper
// than executing a template action per cell, and keeps the page inside its
// time budget. Every piece of outside text goes through esc.
func rowHTML(r overviewRow, haveIncidents bool, carry string) template.HTML {
	esc := template.HTMLEscapeString
	var b strings.Builder
	b.Grow(1500 + 700*len(r.SLOs))
	s := r.Service
	b.WriteString(`<tr data-status="`)
	b.WriteString(esc(r.Status))
	b.WriteString(`"><th scope="row"><a href="/services/`)
	b.WriteString(esc(url.PathEscape(s.Name)))
	if carry != "" {
		// The service page keeps the range and environment picked.
		b.WriteString("?")
		b.WriteString(esc(carry))
	}
	b.WriteString(`">`)
	b.WriteString(esc(s.Name))
	b.WriteString(`</a><br><small>`)
	b.WriteString(esc(s.Team))
	if s.Tier > 0 {
		b.WriteString(` · tier `)
		b.WriteString(strconv.Itoa(s.Tier))
	}
	b.WriteString(`</small></th><td data-label="Status">`)
	b.WriteString(string(statusBadge(r.Status)))
	for _, c := range r.SLOs {
		if c.Page {
			b.WriteString(` <span class="badge st-critical" title="`)
			b.WriteString(esc(c.Name))
			b.WriteString(`: page alert firing">⚠ paging</span>`)
		}
	}
	b.WriteString(`</td><td data-label="Error budget left">`)
	if len(r.SLOs) == 0 {
		b.WriteString(`<small>no SLO defined</small>`)
	}
	for _, c := range r.SLOs {
		b.WriteString(`<div data-slo-status="`)
		b.WriteString(esc(c.Status))
		b.WriteString(`" title="`)
		b.WriteString(esc(c.Name))
		if c.NoData && c.Reason != "" {
			b.WriteString(": no data, ")
			b.WriteString(esc(c.Reason))
		}
		b.WriteString(`">`)
		b.WriteString(string(chart.Meter(c.Remaining, c.NoData)))
		b.WriteString(` <small>`)
		b.WriteString(esc(c.Name))
		b.WriteString(`</small></div>`)
	}
	b.WriteString(`</td><td class="num" data-label="Burn rate (1h)">`)
	if len(r.SLOs) > 0 && math.IsNaN(r.Burn) {
		b.WriteString(`<small>no data</small>`)
	} else if len(r.SLOs) > 0 {
		b.WriteString(esc(chart.Format{Suffix: "×", Decimals: -1}.Text(r.Burn)))
	} else {
		b.WriteString("–")
	}
	b.WriteString(`</td><td data-label="Release">`)
	switch {
	case r.Freeze:
		b.WriteString(`<span class="freeze" title="`)
		b.WriteString(esc(r.FreezeReason))
		b.WriteString(`">❄ frozen</span>`)
	case len(r.SLOs) > 0 && r.Status == "no_data":
		// Gates fail closed on an SLO they cannot read.
		b.WriteString(`<span title="no SLO of this service has data; SLO gates block its releases">no data</span>`)
	case len(r.SLOs) > 0:
		b.WriteString("open")
	default:
		b.WriteString("–")
	}
	b.WriteString(`</td><td data-label="DORA">`)
	if len(r.Tiers) == 0 {
		b.WriteString(`<small>–</small>`)
	}
	for _, t := range r.Tiers {
		tier := t.Tier
		if tier == "" {
			tier = "no_data"
		}
		b.WriteString(`<span class="tier tier-`)
		b.WriteString(esc(tier))
		b.WriteString(`" title="`)
		b.WriteString(esc(t.Title))
		b.WriteString(`">`)
		b.WriteString(esc(t.Metric))
		b.WriteString(" ")
		if tier == "no_data" {
			b.WriteString("–")
		} else {
			b.WriteString(esc(tier))
		}
		b.WriteString(`</span> `)
	}
	b.WriteString(`</td><td data-label="Open incidents">`)
	for _, inc := range r.Incidents {
		id := strconv.FormatInt(inc.ID, 10)
		b.WriteString(`<a href="/incidents/`)
		b.WriteString(id)
		b.WriteString(`" class="sev sev-`)
		b.WriteString(esc(inc.Severity))
		b.WriteString(`" title="`)
		b.WriteString(esc(inc.Title))
		b.WriteString(`">#`)
		b.WriteString(id)
		b.WriteString(" ")
		b.WriteString(esc(inc.Severity))
		b.WriteString(`</a> `)
		b.WriteString(string(statusBadge(inc.Status)))
		b.WriteString(`<br>`)
	}
	if len(r.Incidents) == 0 {
		if haveIncidents {
			b.WriteString("none")
		} else {
			b.WriteString("–")
		}
	}
	b.WriteString(`</td><td data-label="On call now">`)
	if len(r.OnCall) == 0 {
		b.WriteString("–")
	}
	for i, p := range r.OnCall {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(esc(p))
	}
	b.WriteString("</td></tr>\n")
	return template.HTML(b.String())
}
