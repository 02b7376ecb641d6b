package web_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/demo"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/slo"
	"github.com/tandemhq/tandem/internal/testenv"
)

// consoleLog collects what pages write to the console and what they throw.
type consoleLog struct {
	mu   sync.Mutex
	msgs []string
}

func (c *consoleLog) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeWarning && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var parts []string
		for _, a := range ev.Args {
			parts = append(parts, string(a.Value)+a.Description)
		}
		msg = "console." + string(ev.Type) + ": " + strings.Join(parts, " ")
	case *runtime.EventExceptionThrown:
		msg = "exception: " + ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			msg += " " + ev.ExceptionDetails.Exception.Description
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level != log.EntryLevelError && ev.Entry.Level != log.EntryLevelWarning {
			return
		}
		msg = "log " + string(ev.Entry.Level) + ": " + ev.Entry.Text + " " + ev.Entry.URL
	default:
		return
	}
	c.mu.Lock()
	c.msgs = append(c.msgs, msg)
	c.mu.Unlock()
}

// take returns the messages since the last call.
func (c *consoleLog) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.msgs
	c.msgs = nil
	return out
}

// repoRoot is the directory holding go.mod.
func repoRoot(t *testing.T) string {
	return filepath.Dir(filepath.Dir(apptest.ExamplesDir(t)))
}

type browser struct {
	t       *testing.T
	ctx     context.Context
	base    string
	console *consoleLog
	shots   string
}

// open loads a page, waits for its heading, checks that every selector
// matches something and that the console stayed clean, and saves a
// screenshot named name.
func (b *browser) open(name, path string, selectors ...string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
		b.t.Fatalf("%s: load %s: %v", name, path, err)
	}
	b.expect(name, selectors...)
	b.clean(name)
	b.audit(name)
}

// widths are the viewport widths every page is checked at: a laptop and a
// phone.
var widths = []int64{1440, 390}

// auditJS finds what a person would see as broken on the page and returns
// one line per problem: text drawn over other text, a page wider than the
// viewport, and a number shown for an SLO that has no data.
const auditJS = `(() => {
  const out = [];
  const vw = window.innerWidth;
  const sw = document.documentElement.scrollWidth;
  if (sw > vw) {
    let widest = "";
    for (const e of document.querySelectorAll("main *, header *")) {
      const r = e.getBoundingClientRect();
      if (r.right > vw + 0.5 && r.width > 0) { widest = e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && e.className.baseVal === undefined && e.className ? "." + String(e.className).split(" ")[0] : "") + " reaches " + Math.round(r.right) + " px: " + (e.innerText || e.textContent || "").trim().slice(0, 40); }
    }
    out.push("page is " + sw + " px wide in a " + vw + " px viewport; " + widest);
  }
  // On a wide screen no table hides columns behind a sideways scroll.
  if (vw >= 1024) {
    for (const e of document.querySelectorAll("main .table-wrap, main table")) {
      if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== "visible") out.push((e.id || e.firstElementChild && e.firstElementChild.id || e.className) + " is clipped: " + e.scrollWidth + " px of content in " + e.clientWidth + " px");
    }
  }
  // The visible part of a box: clipped by every scrolling or hidden-overflow
  // ancestor.
  const clipCache = new Map();
  function clipOf(el) {
    if (!el || el === document.documentElement || el === document.body) return {left: -1e9, top: -1e9, right: 1e9, bottom: 1e9};
    if (clipCache.has(el)) return clipCache.get(el);
    let c = clipOf(el.parentElement);
    const st = getComputedStyle(el);
    if (st.overflowX !== "visible" || st.overflowY !== "visible" || (st.clip && st.clip !== "auto")) {
      const r = el.getBoundingClientRect();
      c = {left: Math.max(c.left, r.left), top: Math.max(c.top, r.top), right: Math.min(c.right, r.right), bottom: Math.min(c.bottom, r.bottom)};
    }
    clipCache.set(el, c);
    return c;
  }
  function shown(el) {
    for (let e = el; e; e = e.parentElement) {
      const st = getComputedStyle(e);
      if (st.display === "none" || st.visibility === "hidden" || st.opacity === "0") return false;
      const p = e.parentElement;
      if (p && p.tagName === "DETAILS" && !p.open && e.tagName !== "SUMMARY") return false;
      if (e.tagName && ["title", "desc", "script", "style", "template", "noscript", "option", "textarea"].includes(e.tagName.toLowerCase())) return false;
    }
    return true;
  }
  const boxes = [];
  function add(el, rects, text) {
    const c = clipOf(el);
    for (const r of rects) {
      const b = {left: Math.max(r.left, c.left), top: Math.max(r.top, c.top), right: Math.min(r.right, c.right), bottom: Math.min(r.bottom, c.bottom)};
      if (b.right - b.left < 1 || b.bottom - b.top < 1) continue;
      boxes.push({b, el, text});
    }
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const svgTexts = new Set();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.nodeValue.trim();
    if (!text) continue;
    const el = n.parentElement;
    if (!el) continue;
    const svgText = el.closest("svg text");
    if (svgText) {
      if (svgTexts.has(svgText)) continue;
      svgTexts.add(svgText);
      if (shown(svgText)) add(svgText, [svgText.getBoundingClientRect()], svgText.textContent.trim());
      continue;
    }
    if (el.closest("svg")) continue;
    if (!shown(el)) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    add(el, Array.from(range.getClientRects()), text);
  }
  boxes.sort((a, b) => a.b.left - b.b.left);
  const seen = new Set();
  for (let i = 0; i < boxes.length; i++) {
    const a = boxes[i];
    for (let j = i + 1; j < boxes.length && boxes[j].b.left < a.b.right - 2; j++) {
      const c = boxes[j];
      if (c.el === a.el && c.text === a.text) continue;
      const w = Math.min(a.b.right, c.b.right) - Math.max(a.b.left, c.b.left);
      const h = Math.min(a.b.bottom, c.b.bottom) - Math.max(a.b.top, c.b.top);
      if (w > 2 && h > 2) {
        const key = a.text + "|" + c.text;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push("text overlaps: " + JSON.stringify(a.text.slice(0, 40)) + " and " + JSON.stringify(c.text.slice(0, 40)) + " at " + Math.round(Math.max(a.b.left, c.b.left)) + "," + Math.round(Math.max(a.b.top, c.b.top)));
      }
    }
  }
  // SLOs without data: an overview row or an SLO section whose status is
  // no_data, or any element marked with the SLO's status.
  const scopes = new Set([...document.querySelectorAll("tr[data-status=no_data], [data-slo-status=no_data]")]);
  for (const s of document.querySelectorAll("section.slo")) {
    const badge = s.querySelector("h3 .badge");
    if (badge && badge.classList.contains("st-no_data")) scopes.add(s);
  }
  for (const s of scopes) {
    // Cells are table cells and the values of description lists; an
    // objective is a target from the config, not a measurement.
    const cells = s.matches("td, dd") ? [s] : s.querySelectorAll("td, dd");
    for (const td of cells) {
      const dt = td.tagName === "DD" ? td.previousElementSibling : null;
      if (dt && dt.tagName === "DT" && /^(objective|source)$/i.test(dt.textContent.trim())) continue;
      if (!shown(td) || td.getBoundingClientRect().width === 0) continue;
      const copy = td.cloneNode(true);
      for (const x of copy.querySelectorAll("a, small, th, code, .why, .error-msg, [aria-hidden=true]")) x.remove();
      const t = copy.textContent.replace(/\s+/g, " ").trim();
      if (/\d/.test(t)) out.push("a cell of an SLO with no data shows a number: " + JSON.stringify(t.slice(0, 60)));
    }
  }
  return out;
})()`

// audit checks the page at every width in widths (see auditJS), saves a
// screenshot at each and leaves the viewport at the first.
func (b *browser) audit(name string) {
	b.t.Helper()
	for i, w := range widths {
		if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(w, 900)); err != nil {
			b.t.Fatalf("%s: viewport %d: %v", name, w, err)
		}
		problems, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](auditJS))
		if err != nil {
			b.t.Fatalf("%s at %d px: audit: %v", name, w, err)
		}
		for _, p := range problems {
			b.t.Errorf("%s at %d px: %s", name, w, p)
		}
		shot := name
		if i > 0 {
			shot = fmt.Sprintf("%s-%d", name, w)
		}
		b.shot(shot)
	}
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(widths[0], 900)); err != nil {
		b.t.Fatalf("%s: viewport: %v", name, err)
	}
}

// expect checks that each CSS selector matches at least one element.
func (b *browser) expect(name string, selectors ...string) {
	b.t.Helper()
	for _, sel := range selectors {
		n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
		if err != nil {
			b.t.Fatalf("%s: query %s: %v", name, sel, err)
		}
		if n == 0 {
			html, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string]("document.getElementById('main').innerText.slice(0, 2000)"))
			b.t.Errorf("%s: nothing matches %s; the page says:\n%s", name, sel, html)
		}
	}
}

// clean fails the test if the console got errors or warnings.
func (b *browser) clean(name string) {
	b.t.Helper()
	// A round trip makes sure events sent before it have been seen.
	_, _ = chromedp.Run(b.ctx, chromedp.Evaluate[bool]("true"))
	for _, m := range b.console.take() {
		b.t.Errorf("%s: console: %s", name, m)
	}
}

func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("%s: screenshot: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf("(document.querySelector(%q)||{innerText:''}).innerText", sel)))
	if err != nil {
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

func TestBrowser(t *testing.T) {
	chromium := testenv.Binary(t, "TANDEM_TEST_CHROMIUM", "chromium")
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	srv := apptest.Start(t, apptest.Options{PublicRead: true})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := demo.Seed(ctx, srv.Main, time.Now(), 14); err != nil {
		t.Fatalf("demo data: %v", err)
	}
	stagingDeploy := seedStaging(t, srv)
	writer := srv.Token(t, "browser-writer", auth.ScopeWrite)

	shots := filepath.Join(repoRoot(t), "testout", "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	)
	defer cancelAlloc()
	bctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	cl := &consoleLog{}
	if err := chromedp.Listen(bctx, cl.listen); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	b := &browser{t: t, ctx: bctx, base: srv.URL, console: cl, shots: shots}

	t.Run("overview", func(t *testing.T) {
		b.t = t
		b.open("overview", "/", "table#services tbody tr", "a[href='/services/checkout']", "nav a[aria-current=page]")
		// A service whose SLOs have no data is not open for release: its
		// gates fail closed.
		if got := b.text("tr[data-status=no_data] td[data-label=Release]"); got != "no data" {
			t.Errorf("release of a service without SLO data reads %q", got)
		}
	})
	t.Run("filter in the URL", func(t *testing.T) {
		b.t = t
		b.open("overview-filtered", "/?team=payments", "table#services")
		rows := b.text("table#services tbody")
		if !strings.Contains(rows, "checkout") || strings.Contains(rows, "search-api") {
			t.Errorf("team=payments shows:\n%s", rows)
		}
	})
	t.Run("sign in", func(t *testing.T) {
		b.t = t
		b.open("login", "/login", "form.login input#token")
		if err := chromedp.Do(bctx,
			chromedp.SendKeys(chromedp.CSS("#token"), writer),
			chromedp.Submit(chromedp.CSS("form.login")),
			chromedp.WaitVisible(chromedp.CSS(".who form button")),
		); err != nil {
			t.Fatalf("sign in: %v", err)
		}
		if who := b.text(".who"); !strings.Contains(who, "browser-writer") {
			t.Errorf("after sign-in the header says %q", who)
		}
		b.clean("after sign-in")
	})
	t.Run("service", func(t *testing.T) {
		b.t = t
		b.open("service", "/services/checkout?range=7d", "section.slo svg.chart.ts", "figure.arc", "#changes", "#esc-h", "#slo-checkout-availability dd.links a[href*=\"/graph?\"]")
		// Hovering the SLI chart shows the value under the pointer.
		box, err := chromedp.Run(bctx, chromedp.Evaluate[[]float64](`(() => { const s = document.querySelector("section.slo svg.chart.ts"); s.scrollIntoView({block: "center"}); const r = s.getBoundingClientRect(); return [r.left + r.width*0.6, r.top + r.height*0.5]; })()`))
		if err != nil || len(box) != 2 {
			t.Fatalf("chart position: %v", err)
		}
		if err := chromedp.Do(bctx, chromedp.MouseEvent("mouseMoved", box[0], box[1])); err != nil {
			t.Fatalf("hover: %v", err)
		}
		if tip := b.text(".tip"); !strings.Contains(tip, "UTC") || !strings.Contains(tip, "SLI:") {
			t.Errorf("hover tooltip says %q", tip)
		}
		// The SLI axis is scaled around the 99.9% objective: its lowest
		// tick is within ten error budgets of it.
		low, err := chromedp.Run(bctx, chromedp.Evaluate[float64](`Math.min(...Array.from(document.querySelector("#slo-checkout-api-availability svg.chart.ts").querySelectorAll("g.axis.y text")).map(t => parseFloat(t.textContent)))`))
		if err != nil || low < 98.9 {
			t.Errorf("the SLI axis of a 99.9%% objective goes down to %v%%, %v", low, err)
		}
		b.clean("service hover")
	})
	t.Run("staging", func(t *testing.T) {
		b.t = t
		b.open("service-staging", "/services/checkout?range=7d&env=staging", "#slo-checkout-staging-availability svg.chart.ts",
			"nav.envs a[aria-current]", fmt.Sprintf("#slo-checkout-staging-availability a[href='#change-%d']", stagingDeploy),
			"header nav a[href='/delivery?env=staging&range=7d']")
		if got := b.text("#slo-checkout-availability"); got != "" {
			t.Errorf("the staging page shows the production SLO: %q", got)
		}
	})
	t.Run("drag to zoom", func(t *testing.T) {
		b.t = t
		b.open("service-zoom", "/services/checkout?range=7d", "section.slo svg.chart.ts[data-zoom]")
		box, err := chromedp.Run(bctx, chromedp.Evaluate[[]float64](`(() => { const s = document.querySelector("section.slo svg.chart.ts"); s.scrollIntoView({block: "center"}); const r = s.getBoundingClientRect(); return [r.left + r.width*0.3, r.left + r.width*0.6, r.top + r.height*0.5]; })()`))
		if err != nil || len(box) != 3 {
			t.Fatalf("chart position: %v", err)
		}
		if err := chromedp.Do(bctx,
			chromedp.MouseEvent("mousePressed", box[0], box[2], chromedp.ButtonLeft),
			chromedp.MouseEvent("mouseMoved", (box[0]+box[1])/2, box[2], chromedp.ButtonLeft),
			chromedp.MouseEvent("mouseMoved", box[1], box[2], chromedp.ButtonLeft),
			chromedp.MouseEvent("mouseReleased", box[1], box[2], chromedp.ButtonLeft),
			chromedp.WaitVisible(chromedp.CSS(".rangebar span[aria-current]")),
		); err != nil {
			t.Fatalf("drag: %v", err)
		}
		loc, err := chromedp.Run(bctx, chromedp.Evaluate[string]("window.location.search"))
		if err != nil {
			t.Fatal(err)
		}
		q, err := url.ParseQuery(strings.TrimPrefix(loc, "?"))
		if err != nil {
			t.Fatal(err)
		}
		from, err1 := time.Parse(time.RFC3339, q.Get("from"))
		to, err2 := time.Parse(time.RFC3339, q.Get("to"))
		if err1 != nil || err2 != nil || q.Has("range") {
			t.Fatalf("after the drag the URL is %q", loc)
		}
		// 30% to 60% of a 7-day plot is about two days, a little less
		// since the plot has margins.
		if span := to.Sub(from); span < 36*time.Hour || span > 60*time.Hour {
			t.Errorf("zoomed range %v – %v spans %v, want about two days", from, to, span)
		}
		if !strings.Contains(b.text("section.slo figure.chart-box figcaption"), "–") {
			t.Errorf("the chart caption does not name the zoomed range: %q", b.text("section.slo figure.chart-box figcaption"))
		}
		b.clean("after zoom")
	})
	t.Run("every service", func(t *testing.T) {
		b.t = t
		for _, s := range srv.Main.Config.Get().Catalog.Services {
			b.open("service-"+s.Name, "/services/"+s.Name, "#slos", "#changes")
		}
	})
	t.Run("delivery", func(t *testing.T) {
		b.t = t
		b.open("delivery", "/delivery", "#metric-df", "#metric-lt", "#metric-cfr", "#metric-fdrt", "#metric-rework", "table.dora-table", "#metric-df .prev", "#metric-df svg.bars a")
		if prev := b.text("#metric-df .prev"); !strings.Contains(prev, "/ day in the 90d before") {
			t.Errorf("deployment frequency's previous period reads %q", prev)
		}
		// A week's bar leads to the deploys it counts.
		want, err := chromedp.Run(bctx, chromedp.Evaluate[string](`(() => { const as = document.querySelectorAll("#metric-df svg.bars a"); const a = as[as.length - 2]; const t = a.parentElement.querySelector("title").textContent; a.dispatchEvent(new MouseEvent("click", {bubbles: true, cancelable: true})); return t; })()`))
		if err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(bctx, chromedp.WaitVisible(chromedp.CSS("#deploys"))); err != nil {
			t.Fatalf("after clicking a bar: %v", err)
		}
		n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`Array.from(document.querySelectorAll("#deploy-table tbody tr")).filter(r => r.cells[2].textContent !== "rollback" && r.cells[3].textContent.includes("success")).length`))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(want, fmt.Sprintf(": %d ", n)) {
			t.Errorf("the bar says %q; its page lists %d successful deploys", want, n)
		}
		if loc, _ := chromedp.Run(bctx, chromedp.Evaluate[string]("location.search")); !strings.Contains(loc, "from=") {
			t.Errorf("the bar led to %q", loc)
		}
		b.clean("delivery drill-down")
	})
	t.Run("on-call", func(t *testing.T) {
		b.t = t
		b.open("oncall", "/oncall", "#current .card", "table#shifts", "#policies", "table#windows", "table#heartbeat-table")
	})
	t.Run("incidents", func(t *testing.T) {
		b.t = t
		b.open("incidents", "/incidents", "table#incidents", "details.declare")
	})
	t.Run("declare", func(t *testing.T) {
		b.t = t
		if err := chromedp.Do(bctx,
			chromedp.Click(chromedp.CSS("details.declare summary")),
			chromedp.WaitVisible(chromedp.CSS("#declare-title")),
			chromedp.SetValue(chromedp.CSS("#declare-service"), "payments-api"),
			chromedp.SetValue(chromedp.CSS("#declare-severity"), "sev1"),
			chromedp.SendKeys(chromedp.CSS("#declare-title"), "Browser test: card payments failing"),
			chromedp.Click(chromedp.CSS("button#declare")),
			chromedp.WaitVisible(chromedp.CSS("p.notice")),
		); err != nil {
			t.Fatalf("declare: %v", err)
		}
		list, err := srv.Main.API.Incident.Manager.List(ctx, incident.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		declared := 0
		for _, inc := range list {
			if inc.Title == "Browser test: card payments failing" {
				declared++
			}
		}
		if declared != 1 {
			t.Errorf("the form declared %d incidents, want 1", declared)
		}
		if got := b.text("p.notice"); !strings.HasPrefix(got, "Incident declared") {
			t.Errorf("after declaring the page says %q", got)
		}
		if h1 := b.text("h1"); !strings.Contains(h1, "Browser test: card payments failing") {
			t.Errorf("declared incident's heading %q", h1)
		}
		b.clean("after declare")
	})
	t.Run("acknowledge", func(t *testing.T) {
		b.t = t
		mgr := srv.Main.API.Incident.Manager
		inc, err := mgr.Open(ctx, incident.OpenInput{Title: "Browser test: checkout errors", Services: []string{"checkout"},
			Severity: "sev2", Actor: "test", NoPage: true})
		if err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/incidents/%d", inc.ID)
		b.open("incident", path, "#timeline li", "#suspects", "#pages", "button#ack")
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("button#ack")), chromedp.WaitVisible(chromedp.CSS("p.notice"))); err != nil {
			t.Fatalf("click ack: %v", err)
		}
		if got := b.text("p.notice"); got != "Incident acknowledged." {
			t.Errorf("after ack the page says %q", got)
		}
		b.clean("after ack")
		got, err := mgr.Get(ctx, inc.ID)
		if err != nil || got.Status != incident.Acknowledged {
			t.Fatalf("incident status after the click: %q, %v", got.Status, err)
		}
		if !strings.Contains(b.text("#timeline"), "web:browser-writer") {
			t.Errorf("timeline does not name who acknowledged")
		}
		// A refresh never throws away a note being written, focused or not.
		kept, err := chromedp.Run(bctx, chromedp.Evaluate[string](`(() => { const n = document.getElementById("note-text"); n.value = "half a thought"; n.blur(); return window.tandemRefresh().then(() => document.getElementById("note-text").value); })()`, chromedp.EvalAwaitPromise))
		if err != nil || kept != "half a thought" {
			t.Errorf("note after refresh: %q, %v", kept, err)
		}
	})
	t.Run("bulk acknowledge", func(t *testing.T) {
		b.t = t
		mgr := srv.Main.API.Incident.Manager
		var ids []int64
		for _, title := range []string{"Browser test: queue backlog", "Browser test: slow search"} {
			inc, err := mgr.Open(ctx, incident.OpenInput{Title: title, Services: []string{"search-api"}, Severity: "sev3", Actor: "test", NoPage: true})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, inc.ID)
		}
		b.open("incidents-bulk", "/incidents?status=triggered", "form#bulk button#bulk-ack")
		for _, id := range ids {
			if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(fmt.Sprintf("input[name=id][value='%d']", id)))); err != nil {
				t.Fatalf("tick #%d: %v", id, err)
			}
		}
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("button#bulk-ack")), chromedp.WaitVisible(chromedp.CSS("p.notice"))); err != nil {
			t.Fatalf("bulk ack: %v", err)
		}
		if got := b.text("p.notice"); got != "2 incidents acknowledged." {
			t.Errorf("after the bulk ack the page says %q", got)
		}
		for _, id := range ids {
			got, err := mgr.Get(ctx, id)
			if err != nil || got.Status != incident.Acknowledged {
				t.Errorf("#%d after the bulk ack: %q, %v", id, got.Status, err)
			}
			tl, _ := mgr.Timeline(ctx, id)
			by := false
			for _, e := range tl {
				by = by || e.Actor == "web:browser-writer"
			}
			if !by {
				t.Errorf("#%d: the timeline does not name who acknowledged", id)
			}
		}
		b.clean("after bulk ack")
	})
	t.Run("add responder", func(t *testing.T) {
		b.t = t
		mgr := srv.Main.API.Incident.Manager
		inc, err := mgr.Open(ctx, incident.OpenInput{Title: "Browser test: card declines", Services: []string{"checkout"},
			Severity: "sev2", Actor: "test", NoPage: true})
		if err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/incidents/%d", inc.ID)
		b.open("incident-responder", path, "select#add-responder option[value=bob]", "select#reassign-to", "button#save-responder")
		if err := chromedp.Do(bctx,
			chromedp.SetValue(chromedp.CSS("select#add-responder"), "bob"),
			chromedp.Click(chromedp.CSS("button#save-responder")),
			chromedp.WaitVisible(chromedp.CSS("p.notice")),
		); err != nil {
			t.Fatalf("add responder: %v", err)
		}
		if got := b.text("p.notice"); got != "Responders asked: they are being paged." {
			t.Errorf("after adding a responder the page says %q", got)
		}
		if got := b.text("#responders"); got != "bob" {
			t.Errorf("responders shown: %q", got)
		}
		if tl := b.text("#timeline"); !strings.Contains(tl, "bob asked to respond by web:browser-writer: paging bob") {
			t.Errorf("the timeline lacks the request:\n%s", tl)
		}
		// The page job runs in the server's engine: the page to bob (by
		// Slack, the example's default rule at 0 minutes) reaches the
		// timeline and the pages table.
		deadline := time.Now().Add(20 * time.Second)
		for {
			b.open("incident-responder", path, "#timeline li")
			tl := b.text("#timeline")
			if strings.Contains(tl, "paged bob by slack") || strings.Contains(tl, "page to bob by slack") {
				if pages := b.text("#pages + table"); !strings.Contains(pages, "bob") {
					t.Errorf("the pages table lacks bob's page:\n%s", pages)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no page to bob on the timeline:\n%s", tl)
			}
			time.Sleep(500 * time.Millisecond)
		}
		got, err := mgr.Get(ctx, inc.ID)
		if err != nil || len(got.Responders) != 1 || got.Responders[0].Person != "bob" || got.Status != incident.Triggered {
			t.Fatalf("after the form: %+v, %v", got, err)
		}
		b.clean("after add responder")
	})
	t.Run("time zones", func(t *testing.T) {
		b.t = t
		zone := func(id string) chromedp.Action[chromedp.Void] {
			return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: id})
				return err
			})
		}
		if err := chromedp.Do(bctx, zone("America/New_York")); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = chromedp.Do(bctx, zone("")) }()
		b.open("incidents-zone", "/incidents", "table#incidents time[datetime]", "#zone-toggle")
		local := b.text("table#incidents time[datetime]")
		if strings.Contains(local, "UTC") || !(strings.Contains(local, "EST") || strings.Contains(local, "GMT-5")) {
			t.Errorf("in New York a time reads %q", local)
		}
		if title, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector("table#incidents time[datetime]").title`)); !strings.Contains(title, "ago") && !strings.HasPrefix(title, "just now") {
			t.Errorf("hovering a time says %q, want how long ago", title)
		}
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("#zone-toggle"))); err != nil {
			t.Fatal(err)
		}
		if utc := b.text("table#incidents time[datetime]"); !strings.HasSuffix(utc, "UTC") {
			t.Errorf("after the UTC toggle a time reads %q", utc)
		}
		// The choice is kept: set it back for the pages after this one.
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("#zone-toggle"))); err != nil {
			t.Fatal(err)
		}
		b.clean("time zones")
	})
	t.Run("postmortem", func(t *testing.T) {
		b.t = t
		pms := srv.Main.API.Learning.Postmortems
		if pms == nil {
			t.Fatal("the postmortem capability is not wired")
		}
		mgr := srv.Main.API.Incident.Manager
		inc, err := mgr.Open(ctx, incident.OpenInput{Title: "Browser test: payments down", Services: []string{"payments-api"},
			Severity: "sev1", Actor: "test", NoPage: true, StartedAt: time.Now().Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		for _, step := range []func() error{
			func() error { _, err := mgr.Resolve(ctx, inc.ID, "test", "rolled back"); return err },
			func() error { _, err := mgr.Close(ctx, inc.ID, "test"); return err },
		} {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		pm, _, err := pms.Generate(ctx, inc.ID)
		if err != nil {
			t.Fatalf("generate postmortem: %v", err)
		}
		b.open("postmortems", "/postmortems", "table#postmortems a[href='/postmortems/"+fmt.Sprint(pm.ID)+"']")
		b.open("postmortem", fmt.Sprintf("/postmortems/%d", pm.ID), "article#postmortem h2", "a#print-view", "a#edit")
		b.open("postmortem-print", fmt.Sprintf("/postmortems/%d/print", pm.ID), "article#postmortem.print h1")
		// The print view has no navigation, and printing any page hides it.
		if n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("header.top, nav[aria-label=Main], footer.foot").length`)); err != nil || n != 0 {
			t.Errorf("the print view shows %d navigation elements, %v", n, err)
		}
		b.open("postmortem-again", fmt.Sprintf("/postmortems/%d", pm.ID), "header.top")
		media := func(m string) chromedp.Action[chromedp.Void] {
			return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m})
				return err
			})
		}
		if err := chromedp.Do(bctx, media("print")); err != nil {
			t.Fatal(err)
		}
		hidden, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector("header.top")).display === "none"`))
		if err != nil || !hidden {
			t.Errorf("printing the postmortem page shows the navigation: %v", err)
		}
		if err := chromedp.Do(bctx, media("")); err != nil {
			t.Fatal(err)
		}

		// Edit: add an overdue action item to the checklist and save.
		b.open("postmortem-edit", fmt.Sprintf("/postmortems/%d?edit=1", pm.ID), "form.editor textarea#markdown")
		if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`(() => { const t = document.getElementById("markdown"); t.value += "\n- [ ] Add a canary stage to checkout deploys (owner: @alice, due: 2020-01-02)\n"; return true; })()`)); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(bctx,
			chromedp.Submit(chromedp.CSS("form.editor")),
			chromedp.WaitVisible(chromedp.CSS("p.notice")),
		); err != nil {
			t.Fatalf("save postmortem: %v", err)
		}
		if got := b.text("p.notice"); got != "Saved." {
			t.Errorf("after saving the page says %q", got)
		}
		// The saved page lists the new action item once.
		if n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.getElementById("main").innerText.split("Add a canary stage to checkout deploys").length - 1`)); err != nil || n != 1 {
			t.Errorf("the postmortem lists its action item %d times, %v", n, err)
		}
		b.clean("after save")
		b.open("actions", "/actions", "table#action-items tr.is-overdue")
		if first := b.text("table#action-items tbody tr"); !strings.Contains(first, "Add a canary stage") || !strings.Contains(first, "overdue") {
			t.Errorf("the first action item is %q, want the overdue one", first)
		}
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("table#action-items tbody tr:first-child button")), chromedp.WaitVisible(chromedp.CSS("p.notice"))); err != nil {
			t.Fatalf("mark done: %v", err)
		}
		if strings.Contains(b.text("table#action-items"), "Add a canary stage") {
			t.Errorf("the item is still listed as open after Mark done")
		}
		b.clean("after mark done")
	})
	t.Run("toil and OKRs", func(t *testing.T) {
		b.t = t
		b.open("toil", "/toil", "table#toil-report", "#goals")
		// Share of on-call time is filled from the shifts and toil hours.
		shares, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#toil-report tbody tr")).map(r => r.cells[r.cells.length - 1].textContent.trim())`))
		if err != nil || len(shares) == 0 {
			t.Fatalf("toil rows: %v", err)
		}
		for _, sh := range shares {
			if !strings.HasSuffix(sh, "%") {
				t.Errorf("a toil row's share of on-call time reads %q", sh)
			}
		}
		b.open("okrs", "/okrs", "main h1")
	})
	t.Run("refresh keeps the scroll", func(t *testing.T) {
		b.t = t
		b.open("overview-again", "/", "table#services")
		y, err := chromedp.Run(bctx, chromedp.Evaluate[float64](`window.scrollTo(0, 200); window.tandemRefresh().then(() => window.scrollY)`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		// The page may be too short to scroll 200 px; what matters is that
		// the position did not jump back to the top when it could scroll.
		max, _ := chromedp.Run(bctx, chromedp.Evaluate[float64](`document.documentElement.scrollHeight - window.innerHeight`))
		if want := min(200, max); y != want {
			t.Errorf("scroll after refresh = %v, want %v", y, want)
		}
		b.expect("after refresh", "table#services tbody tr")
		b.clean("after refresh")
	})
}

// stagingSLO is a native SLO of checkout in staging, beside the examples'
// production ones.
const stagingSLO = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-staging-availability
  labels:
    environment: staging
spec:
  service: checkout
  indicator:
    metadata:
      name: checkout-staging-requests
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: tandem
            spec:
              source: ingest
              maxStatus: 499
        total:
          metricSource:
            type: tandem
            spec:
              source: ingest
  timeWindow:
    - duration: 7d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
`

// seedStaging adds stagingSLO to the server's config (after the demo,
// whose production pipelines gate on checkout's SLOs), gives it two days
// of traffic with a bad hour, records a staging deploy in that hour and
// returns the deploy's id.
func seedStaging(t *testing.T, srv *apptest.Server) int64 {
	t.Helper()
	if err := os.WriteFile(filepath.Join(srv.Main.Options.ConfigDir, "slos-staging.yaml"), []byte(stagingSLO), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := srv.Main.Reload(); err != nil {
		t.Fatalf("reload with the staging SLO: %v", err)
	}
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Minute)
	var bs []slo.NativeBucket
	for m := now.Add(-48 * time.Hour); m.Before(now); m = m.Add(time.Minute) {
		good := int64(50)
		if m.After(now.Add(-20*time.Hour)) && m.Before(now.Add(-19*time.Hour)) {
			good = 45
		}
		bs = append(bs, slo.NativeBucket{Start: m, Good: good, Total: 50})
	}
	if _, err := srv.Main.API.SLO.Store.Ingest(ctx, "checkout-staging-availability", "browser-test", "", bs, 0, 0, now); err != nil {
		t.Fatalf("staging SLI: %v", err)
	}
	evs, err := srv.Main.API.Change.Store.Record(ctx, []change.Event{{Service: "checkout", Environment: "staging", Kind: change.KindDeploy,
		Version: "v9.9.9-rc1", StartedAt: now.Add(-20*time.Hour - 10*time.Minute), FinishedAt: now.Add(-20 * time.Hour), Status: change.StatusSuccess,
		Source: "ci", ExternalID: "browser-staging-1"}}, now)
	if err != nil {
		t.Fatalf("staging deploy: %v", err)
	}
	return evs[0].ID
}
