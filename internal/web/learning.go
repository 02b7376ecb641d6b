package web

import (
	"context"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/okr"
	"github.com/tandemhq/tandem/internal/postmortem"
	"github.com/tandemhq/tandem/internal/toil"
	"github.com/tandemhq/tandem/internal/web/chart"
)

// Postmortems is what the dashboard reads of postmortems and action items.
// *postmortem.Store implements it.
type Postmortems interface {
	List(ctx context.Context, f postmortem.Filter) ([]postmortem.Postmortem, error)
	Get(ctx context.Context, id int64, now time.Time) (postmortem.Postmortem, error)
	ListItems(ctx context.Context, f postmortem.ItemFilter, now time.Time) ([]postmortem.ActionItem, error)
	UpdateItem(ctx context.Context, id int64, u postmortem.ItemUpdate, now time.Time) (postmortem.ActionItem, error)
}

// PostmortemEditor saves a postmortem's Markdown and status, publishing it
// when it becomes published. *postmortem.Service implements it.
type PostmortemEditor interface {
	Save(ctx context.Context, id int64, u postmortem.Update) (postmortem.Postmortem, error)
}

// Toil lists toil entries. *toil.Store implements it.
type Toil interface {
	List(ctx context.Context, f toil.Filter) ([]toil.Entry, error)
}

// OKRs evaluates the reliability objectives of a quarter (team "" for
// all); app builds it from okr.Evaluate with the capabilities' metrics.
type OKRs interface {
	Evaluate(ctx context.Context, q okr.Quarter, team string, now time.Time) ([]okr.ObjectiveStatus, error)
}

// postmortemListData is the data of postmortems.html.
type postmortemListData struct {
	base
	Status      string
	Postmortems []postmortem.Postmortem
}

func (h *Handler) postmortemList(w http.ResponseWriter, r *http.Request, b base) error {
	if h.deps.Postmortems == nil {
		return unavailable("postmortems")
	}
	st := r.URL.Query().Get("status")
	if st != "" {
		var err error
		if st, err = postmortem.ParseStatus(st); err != nil {
			return tandem.FieldErrorf("status", "status must be draft, in_review or published; got %q", r.URL.Query().Get("status"))
		}
	}
	pms, err := h.deps.Postmortems.List(r.Context(), postmortem.Filter{Status: st, Limit: 500})
	if err != nil {
		return err
	}
	b.Title = "Postmortems"
	h.render(w, http.StatusOK, "postmortems.html", postmortemListData{base: b, Status: st, Postmortems: pms})
	return nil
}

// postmortemData is the data of postmortem.html and postmortem_print.html.
type postmortemData struct {
	base
	PM       postmortem.Postmortem
	Body     template.HTML
	Edit     bool
	CanEdit  bool
	Statuses []string
	// OpenItems and OverdueItems count the postmortem's action items.
	OpenItems, OverdueItems int
}

func (h *Handler) loadPostmortem(r *http.Request, b base) (postmortemData, error) {
	if h.deps.Postmortems == nil {
		return postmortemData{}, unavailable("postmortems")
	}
	id, err := pathID(r, "postmortem")
	if err != nil {
		return postmortemData{}, err
	}
	pm, err := h.deps.Postmortems.Get(r.Context(), id, b.Now)
	if err != nil {
		return postmortemData{}, err
	}
	b.Title = pm.Title
	d := postmortemData{base: b, PM: pm, Body: renderMarkdown(pm.Markdown),
		CanEdit: h.deps.PostmortemEditor != nil && b.Viewer.CanWrite(), Statuses: []string{postmortem.Draft, postmortem.InReview, postmortem.Published}}
	for _, it := range pm.ActionItems {
		if it.Overdue {
			d.OverdueItems++
		}
		if it.Status != postmortem.ItemDone {
			d.OpenItems++
		}
	}
	return d, nil
}

// postmortemPage shows a postmortem; ?edit=1 shows the editor to writers.
func (h *Handler) postmortemPage(w http.ResponseWriter, r *http.Request, b base) error {
	d, err := h.loadPostmortem(r, b)
	if err != nil {
		return err
	}
	d.Edit = d.CanEdit && r.URL.Query().Get("edit") == "1"
	if d.Edit {
		d.Refresh = 0 // never swap the page under someone typing
	}
	h.render(w, http.StatusOK, "postmortem.html", d)
	return nil
}

// postmortemPrint is the print view: the document alone, without the
// site's navigation, no refresh.
func (h *Handler) postmortemPrint(w http.ResponseWriter, r *http.Request, b base) error {
	b.Refresh = 0
	b.Bare = true
	d, err := h.loadPostmortem(r, b)
	if err != nil {
		return err
	}
	h.render(w, http.StatusOK, "postmortem_print.html", d)
	return nil
}

// postmortemSave saves the editor's Markdown and status.
func (h *Handler) postmortemSave(w http.ResponseWriter, r *http.Request, v viewer) error {
	if h.deps.PostmortemEditor == nil {
		return unavailable("postmortems")
	}
	id, err := pathID(r, "postmortem")
	if err != nil {
		return err
	}
	md := r.PostFormValue("markdown")
	if strings.TrimSpace(md) == "" {
		return tandem.FieldErrorf("markdown", "the postmortem is empty")
	}
	st, err := postmortem.ParseStatus(r.PostFormValue("status"))
	if err != nil {
		return tandem.FieldErrorf("status", "status must be draft, in_review or published")
	}
	if _, err := h.deps.PostmortemEditor.Save(r.Context(), id, postmortem.Update{Markdown: &md, Status: &st}); err != nil {
		return err
	}
	http.Redirect(w, r, "/postmortems/"+itoa(id)+"?done=saved", http.StatusSeeOther)
	return nil
}

// actionsData is the data of actions.html.
type actionsData struct {
	base
	Items   []postmortem.ActionItem
	Status  string
	Owner   string
	Overdue int
}

// actionItems lists action items, overdue first, then by due date.
func (h *Handler) actionItems(w http.ResponseWriter, r *http.Request, b base) error {
	if h.deps.Postmortems == nil {
		return unavailable("action items")
	}
	q := r.URL.Query()
	d := actionsData{base: b, Status: q.Get("status"), Owner: q.Get("owner")}
	d.Title = "Action items"
	switch d.Status {
	case "":
		d.Status = postmortem.ItemOpen
	case postmortem.ItemOpen, postmortem.ItemDone, "all":
	default:
		return tandem.FieldErrorf("status", "status must be open, done or all; got %q", d.Status)
	}
	f := postmortem.ItemFilter{Owner: d.Owner}
	if d.Status != "all" {
		f.Status = d.Status
	}
	items, err := h.deps.Postmortems.ListItems(r.Context(), f, b.Now)
	if err != nil {
		return err
	}
	sortItems(items)
	for _, it := range items {
		if it.Overdue {
			d.Overdue++
		}
	}
	d.Items = items
	h.render(w, http.StatusOK, "actions.html", d)
	return nil
}

// sortItems puts overdue items first (most overdue first), then open ones
// by due date (undated last), then done ones.
func sortItems(items []postmortem.ActionItem) {
	due := func(a postmortem.ActionItem) time.Time {
		if a.Due == nil {
			return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		return *a.Due
	}
	rank := func(a postmortem.ActionItem) int {
		switch {
		case a.Overdue:
			return 0
		case a.Status == postmortem.ItemOpen:
			return 1
		}
		return 2
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if rank(a) != rank(b) {
			return rank(a) < rank(b)
		}
		if !due(a).Equal(due(b)) {
			return due(a).Before(due(b))
		}
		return a.ID < b.ID
	})
}

// actionItemDone marks an action item done (or open again).
func (h *Handler) actionItemDone(w http.ResponseWriter, r *http.Request, v viewer) error {
	if h.deps.Postmortems == nil {
		return unavailable("action items")
	}
	id, err := pathID(r, "action item")
	if err != nil {
		return err
	}
	st := r.PostFormValue("status")
	if st != postmortem.ItemDone && st != postmortem.ItemOpen {
		return tandem.FieldErrorf("status", "status must be open or done")
	}
	if _, err := h.deps.Postmortems.UpdateItem(r.Context(), id, postmortem.ItemUpdate{Status: &st}, h.deps.Clock.Now()); err != nil {
		return err
	}
	http.Redirect(w, r, "/actions?done=saved", http.StatusSeeOther)
	return nil
}

// toilData is the data of toil.html.
type toilData struct {
	base
	Range    timeRange
	Presets  []string
	URL      *url.URL
	By       string
	Report   toil.Report
	Goals    []toil.GoalStatus
	Chart    template.HTML
	Entries  []toil.Entry
	HasToil  bool
	Previous toil.Period
	// HaveOncallHours is false when on-call time could not be read.
	HaveOncallHours bool
}

var toilRanges = []string{"7d", "28d", "90d", "365d"}

// toilPage shows toil hours grouped by category (or team, service,
// person) against the previous period, the reduction goals, weekly hours,
// and the latest entries.
func (h *Handler) toilPage(w http.ResponseWriter, r *http.Request, b base) error {
	if h.deps.Toil == nil {
		return unavailable("toil reports")
	}
	q := r.URL.Query()
	tr, err := parseRange(q, b.Now, "28d")
	if err != nil {
		return err
	}
	by := q.Get("by")
	if by == "" {
		by = "category"
	}
	if err := toil.CheckBy(by); err != nil {
		return tandem.FieldErrorf("by", "by must be category, team, service or person; got %q", by)
	}
	cur := toil.Period{From: tr.From, To: tr.To}
	prev := toil.Period{From: tr.From.Add(-tr.Span()), To: tr.From}
	goals := h.deps.Config.Get().Learning.ToilGoals
	since := prev.From
	for _, g := range goals {
		w := g.Window
		if w <= 0 {
			w = 30 * 24 * time.Hour
		}
		if s := g.Start.Add(-w); s.Before(since) {
			since = s
		}
	}
	entries, err := h.deps.Toil.List(r.Context(), toil.Filter{Since: since, Until: b.Now.Add(time.Second), Limit: 200000})
	if err != nil {
		return err
	}
	d := toilData{base: b, Range: tr, Presets: toilRanges, URL: r.URL, By: by, Previous: prev}
	d.Title = "Toil"
	var oncallHours map[string]float64
	if h.deps.OncallHours != nil {
		perPerson, err := h.deps.OncallHours(r.Context(), cur.From, cur.To)
		if err != nil {
			h.deps.Log.Warn("toil page: on-call hours unavailable", "err", err)
		} else {
			oncallHours = map[string]float64{}
			cat := h.deps.Config.Get().Catalog
			for p, hrs := range perPerson {
				switch by {
				case toil.ByPerson:
					oncallHours[p] += hrs
				case toil.ByTeam:
					if person, ok := cat.Person(p); ok && person.Team != "" {
						oncallHours[person.Team] += hrs
					}
				}
				oncallHours["total"] += hrs
			}
		}
	}
	d.Report = toil.BuildReport(entries, cur, prev, by, oncallHours)
	// On-call time is known per person and team; a category's or a
	// service's share is its toil over everyone's on-call time.
	if total := oncallHours["total"]; total > 0 && (by == toil.ByCategory || by == toil.ByService) {
		for i := range d.Report.Rows {
			if d.Report.Rows[i].OncallShare == nil {
				share := math.Round(d.Report.Rows[i].Hours/total*10000) / 10000
				d.Report.Rows[i].OncallShare = &share
			}
		}
	}
	d.HaveOncallHours = oncallHours != nil
	for _, g := range goals {
		d.Goals = append(d.Goals, toil.EvaluateGoal(g, entries, b.Now))
	}
	// Hours per week over the range.
	var bars []chart.Bar
	for ws := weekStart(tr.From); ws.Before(tr.To); ws = ws.AddDate(0, 0, 7) {
		we := ws.AddDate(0, 0, 7)
		hours := 0.0
		for _, e := range entries {
			if !e.At.Before(ws) && e.At.Before(we) && !e.At.Before(tr.From) && e.At.Before(tr.To) {
				hours += float64(e.Minutes) / 60
			}
		}
		bars = append(bars, chart.Bar{Label: ws.Format("Jan 2"), V: hours})
	}
	d.Chart = chart.Bars{Title: "Toil hours per week", Bars: bars, Format: chart.Format{Suffix: " h", Decimals: -1}, Width: 720, Height: 160}.SVG()
	for _, e := range entries {
		if cur.Contains(e.At) {
			d.HasToil = true
			if len(d.Entries) < 50 {
				d.Entries = append(d.Entries, e)
			}
		}
	}
	h.render(w, http.StatusOK, "toil.html", d)
	return nil
}

// weekStart is the Monday 00:00 UTC on or before t.
func weekStart(t time.Time) time.Time {
	d := t.UTC().Truncate(24 * time.Hour)
	for d.Weekday() != time.Monday {
		d = d.AddDate(0, 0, -1)
	}
	return d
}

// okrData is the data of okrs.html.
type okrData struct {
	base
	Quarter    okr.Quarter
	Prev, Next string
	Team       string
	Teams      []string
	Objectives []okr.ObjectiveStatus
}

// okrPage shows the quarter's reliability objectives with their key
// results' live values and scores.
func (h *Handler) okrPage(w http.ResponseWriter, r *http.Request, b base) error {
	if h.deps.OKRs == nil {
		return unavailable("OKRs")
	}
	q := r.URL.Query()
	quarter := okr.QuarterOf(b.Now)
	if s := q.Get("quarter"); s != "" {
		var err error
		if quarter, err = okr.ParseQuarter(s); err != nil {
			return tandem.FieldErrorf("quarter", "%v", err)
		}
	}
	d := okrData{base: b, Quarter: quarter, Team: q.Get("team"), Prev: quarter.Prev().String()}
	d.Title = "OKRs"
	next := quarter.End().AddDate(0, 0, 1)
	d.Next = okr.QuarterOf(next).String()
	cat := h.deps.Config.Get().Catalog
	for _, t := range cat.Teams {
		d.Teams = append(d.Teams, t.Name)
	}
	if d.Team != "" {
		if _, ok := cat.Team(d.Team); !ok {
			return tandem.FieldErrorf("team", "no team named %q", d.Team)
		}
	}
	objs, err := h.deps.OKRs.Evaluate(r.Context(), quarter, d.Team, b.Now)
	if err != nil {
		return err
	}
	d.Objectives = objs
	h.render(w, http.StatusOK, "okrs.html", d)
	return nil
}
