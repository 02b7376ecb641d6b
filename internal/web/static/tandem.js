// tandem dashboard script: values under the pointer on charts, and a quiet
// refresh of the page every 30 seconds that keeps the scroll position. The
// pages work without it; it only adds to them.
(function () {
  "use strict";

  // ---- chart hover ----------------------------------------------------
  var tip = null;
  var cache = new WeakMap();

  function hoverData(svg) {
    if (cache.has(svg)) return cache.get(svg);
    var d = null;
    try { d = JSON.parse(svg.getAttribute("data-hover")); } catch (e) { d = null; }
    cache.set(svg, d);
    return d;
  }

  function fmt(d, v) {
    if (v === null || v === undefined) return "no data";
    if (d.p) {
      var p = v * 100;
      var dec = p >= 99.9 && p < 100 ? 3 : (p >= 99 && p < 100 ? 2 : 1);
      return p.toFixed(dec) + "%" + d.x;
    }
    var a = Math.abs(v);
    var dec2 = a >= 100 || a === Math.trunc(a) ? 0 : (a >= 10 ? 1 : (a >= 1 ? 2 : 3));
    return v.toFixed(dec2) + d.x;
  }

  function nearest(ts, t) {
    var lo = 0, hi = ts.length - 1;
    if (hi < 0) return -1;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (ts[mid] < t) lo = mid + 1; else hi = mid;
    }
    if (lo > 0 && Math.abs(ts[lo - 1] - t) <= Math.abs(ts[lo] - t)) lo--;
    return lo;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  var months = ["Jan","Feb","Mar","Apr","May","Jun","Jul","Aug","Sep","Oct","Nov","Dec"];
  // ---- times: the browser's zone by default, UTC on request ------------
  var zone = "local";
  try { zone = window.localStorage.getItem("tandem-zone") || "local"; } catch (e) { zone = "local"; }
  var localFmt = null;
  try {
    localFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" });
  } catch (e) { localFmt = null; }
  function utc(ms) {
    var t = new Date(ms);
    if (zone !== "utc" && localFmt) return localFmt.format(t);
    return months[t.getUTCMonth()] + " " + t.getUTCDate() + " " + pad(t.getUTCHours()) + ":" + pad(t.getUTCMinutes()) + " UTC";
  }
  // span prints a length of time as the server does: "45s", "12m",
  // "3h 20m", "2d 4h".
  function span(ms) {
    var s = Math.floor(Math.abs(ms) / 1000);
    if (s < 60) return s + "s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + "m";
    var h = Math.floor(m / 60);
    if (h < 24) return h + "h" + (m % 60 ? " " + (m % 60) + "m" : "");
    var d = Math.floor(h / 24);
    return d + "d" + (h % 24 ? " " + (h % 24) + "h" : "");
  }
  function relative(ms) {
    var diff = Date.now() - ms;
    if (Math.abs(diff) < 60000) return "just now";
    return diff > 0 ? span(diff) + " ago" : "in " + span(diff);
  }
  function localizeTimes(root) {
    var ts = root.querySelectorAll("time[datetime]");
    for (var i = 0; i < ts.length; i++) {
      var ms = Date.parse(ts[i].getAttribute("datetime"));
      if (isNaN(ms)) continue;
      ts[i].textContent = utc(ms);
      ts[i].title = relative(ms) + " · " + new Date(ms).toISOString().replace(".000Z", "Z");
    }
  }
  function zoneToggle() {
    var foot = document.querySelector("footer.foot");
    if (!foot) return;
    var b = document.getElementById("zone-toggle");
    if (!b) {
      b = document.createElement("button");
      b.type = "button";
      b.id = "zone-toggle";
      b.className = "link";
      foot.appendChild(document.createTextNode(" · "));
      foot.appendChild(b);
      b.addEventListener("click", function () {
        zone = zone === "utc" ? "local" : "utc";
        try { window.localStorage.setItem("tandem-zone", zone); } catch (e) { /* private mode: this page only */ }
        zoneToggle();
        localizeTimes(document);
      });
    }
    var name = "";
    try { name = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { name = ""; }
    if (/^(Etc\/)?(UTC|GMT)$/.test(name)) name = "";
    b.textContent = zone === "utc" ? "Times in UTC; show " + (name || "this browser's zone") : (name ? "Times in " + name + "; show UTC" : "Times in this browser's zone (UTC); keep UTC");
  }
  zoneToggle();
  localizeTimes(document);

  function showTip(text, x, y) {
    if (!tip) {
      tip = document.createElement("div");
      tip.className = "tip";
      tip.setAttribute("role", "status");
      document.body.appendChild(tip);
    }
    tip.textContent = text;
    tip.hidden = false;
    if (x + tip.offsetWidth > window.scrollX + document.documentElement.clientWidth) x = Math.max(window.scrollX, x - tip.offsetWidth - 28);
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }

  // titled is the part of a chart whose <title> (or label) the tooltip
  // shows: a bar, a change marker or a cluster of them, a gauge.
  function titled(el) {
    return el && el.closest && el.closest("svg.chart g.bar, svg.chart g.mk, figure.arc svg");
  }
  function titleText(el) {
    var t = el.querySelector("title");
    return t ? t.textContent : (el.getAttribute("aria-label") || "");
  }

  function onMove(ev) {
    if (drag) { hide(); return; }
    var part = titled(ev.target);
    if (part) { showTip(titleText(part), ev.pageX + 14, ev.pageY + 14); return; }
    var svg = ev.target.closest && ev.target.closest("svg.ts[data-hover]");
    if (!svg) { hide(); return; }
    var d = hoverData(svg);
    var m = svg.getScreenCTM();
    if (!d || !m) return;
    var pt = svg.createSVGPoint();
    pt.x = ev.clientX; pt.y = ev.clientY;
    var p = pt.matrixTransform(m.inverse());
    if (p.x < d.l || p.x > d.l + d.w) { hide(); return; }
    var tms = d.t0 + (p.x - d.l) / d.w * (d.t1 - d.t0);
    var rel = (tms - d.t0) / 1000;
    var lines = [utc(tms)];
    d.s.forEach(function (s) {
      var i = nearest(s.t, rel);
      if (i >= 0) lines.push(s.n + ": " + fmt(d, s.v[i]));
    });
    var line = svg.querySelector("line.hover-line");
    if (!line) {
      line = document.createElementNS("http://www.w3.org/2000/svg", "line");
      line.setAttribute("class", "hover-line");
      var vb = svg.viewBox.baseVal;
      line.setAttribute("y1", "0");
      line.setAttribute("y2", String(vb.height));
      svg.appendChild(line);
    }
    line.setAttribute("x1", p.x); line.setAttribute("x2", p.x);
    showTip(lines.join("\n"), ev.pageX + 14, ev.pageY + 14);
  }

  function hide() {
    if (tip) tip.hidden = true;
    document.querySelectorAll("line.hover-line").forEach(function (l) { l.remove(); });
  }

  document.addEventListener("mousemove", onMove);
  document.addEventListener("mouseleave", hide);
  // A marker reached with the keyboard lists its changes too.
  document.addEventListener("focusin", function (ev) {
    var part = titled(ev.target);
    if (!part) return;
    var r = part.getBoundingClientRect();
    showTip(titleText(part), r.right + window.scrollX + 4, r.bottom + window.scrollY + 4);
  });
  document.addEventListener("focusout", function (ev) { if (titled(ev.target)) hide(); });

  // ---- drag across a time chart to zoom into that time ------------------
  var drag = null;
  function zoomOf(svg) {
    var z = (svg.getAttribute("data-zoom") || "").split(",").map(Number);
    return z.length === 4 ? { l: z[0], w: z[1], t0: z[2], t1: z[3] } : null;
  }
  function svgX(svg, ev) {
    var m = svg.getScreenCTM();
    if (!m) return null;
    var pt = svg.createSVGPoint();
    pt.x = ev.clientX; pt.y = ev.clientY;
    return pt.matrixTransform(m.inverse()).x;
  }
  document.addEventListener("pointerdown", function (ev) {
    if (ev.button !== 0 || !ev.target.closest) return;
    var svg = ev.target.closest("svg.ts[data-zoom]");
    if (!svg || ev.target.closest("a")) return;
    var z = zoomOf(svg), x = svgX(svg, ev);
    if (!z || x === null || x < z.l || x > z.l + z.w) return;
    ev.preventDefault();
    var r = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    r.setAttribute("class", "zoom-sel");
    r.setAttribute("y", "0");
    r.setAttribute("height", String(svg.viewBox.baseVal.height));
    r.setAttribute("x", String(x));
    r.setAttribute("width", "0");
    svg.appendChild(r);
    drag = { svg: svg, z: z, x0: x, x1: x, rect: r };
  });
  document.addEventListener("pointermove", function (ev) {
    if (!drag) return;
    var x = svgX(drag.svg, ev);
    if (x === null) return;
    drag.x1 = Math.max(drag.z.l, Math.min(drag.z.l + drag.z.w, x));
    drag.rect.setAttribute("x", String(Math.min(drag.x0, drag.x1)));
    drag.rect.setAttribute("width", String(Math.abs(drag.x1 - drag.x0)));
  });
  document.addEventListener("pointerup", function () {
    if (!drag) return;
    var d = drag;
    drag = null;
    d.rect.remove();
    if (Math.abs(d.x1 - d.x0) < 4) return;
    var at = function (x) { return d.z.t0 + (x - d.z.l) / d.z.w * (d.z.t1 - d.z.t0); };
    var from = new Date(at(Math.min(d.x0, d.x1))), to = new Date(at(Math.max(d.x0, d.x1)));
    var u = new URL(window.location.href);
    u.searchParams.delete("range");
    u.searchParams.delete("done");
    u.searchParams.set("from", from.toISOString().replace(/\.\d+Z$/, "Z"));
    u.searchParams.set("to", to.toISOString().replace(/\.\d+Z$/, "Z"));
    window.location.assign(u.toString());
  });
  if (document.querySelector("svg.ts[data-zoom]")) {
    document.querySelectorAll(".range-hint").forEach(function (e) { e.hidden = false; });
  }

  // ---- filters: apply on change ---------------------------------------
  document.addEventListener("change", function (ev) {
    var f = ev.target.form;
    if (f && f.classList.contains("filters") && f.method.toLowerCase() === "get") f.requestSubmit();
  });

  // ---- confirmations for irreversible actions ---------------------------
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });

  // ---- one submit per action: a double click must not declare (and
  // page) two incidents ----------------------------------------------------
  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    if (ev.defaultPrevented || (f.getAttribute("method") || "").toLowerCase() !== "post") return;
    if (f.hasAttribute("data-sent")) { ev.preventDefault(); return; }
    f.setAttribute("data-sent", "");
  });
  // A page restored by the back button gets its forms back.
  window.addEventListener("pageshow", function () {
    var sent = document.querySelectorAll("form[data-sent]");
    for (var i = 0; i < sent.length; i++) sent[i].removeAttribute("data-sent");
  });

  // ---- refresh -----------------------------------------------------------
  var period = parseInt(document.body.getAttribute("data-refresh") || "0", 10);
  if (!(period > 0)) return;
  var busy = false;

  // dirty reports whether a field of the page holds something typed or
  // chosen that a refresh would throw away.
  function dirty() {
    var fields = document.querySelectorAll("main input, main textarea, main select");
    for (var i = 0; i < fields.length; i++) {
      var e = fields[i];
      if (e.type === "checkbox" || e.type === "radio") { if (e.checked !== e.defaultChecked) return true; }
      else if (e.tagName === "SELECT") {
        for (var j = 0; j < e.options.length; j++) if (e.options[j].selected !== e.options[j].defaultSelected) return true;
      } else if (e.value !== e.defaultValue) return true;
    }
    return false;
  }

  function editing() {
    var a = document.activeElement;
    if (a && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName)) return true;
    if (dirty()) return true;
    var sel = window.getSelection && window.getSelection();
    return !!(sel && sel.toString().length > 0);
  }

  function refresh() {
    if (busy || document.hidden || editing() || (tip && !tip.hidden)) return;
    busy = true;
    fetch(window.location.href, { headers: { "X-Tandem-Refresh": "1" }, credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (!r.ok || r.redirected) throw new Error("status " + r.status);
        return r.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main");
        var cur = document.getElementById("main");
        if (!fresh || !cur) return;
        var x = window.scrollX, y = window.scrollY;
        var focusId = document.activeElement && document.activeElement.id;
        cur.replaceChildren.apply(cur, Array.prototype.slice.call(fresh.childNodes).map(function (n) { return document.adoptNode(n); }));
        localizeTimes(cur);
        var upd = doc.getElementById("updated");
        if (upd) { var mine = document.getElementById("updated"); mine.replaceChildren.apply(mine, Array.prototype.slice.call(upd.childNodes).map(function (n) { return document.adoptNode(n); })); localizeTimes(mine); }
        document.title = doc.title;
        window.scrollTo(x, y);
        if (focusId) { var f = document.getElementById(focusId); if (f) f.focus({ preventScroll: true }); }
      })
      .catch(function () {
        var u = document.getElementById("updated");
        if (u && u.textContent.indexOf("refresh failed") < 0) u.textContent += " · refresh failed, retrying";
      })
      .finally(function () { busy = false; });
  }
  window.setInterval(refresh, period * 1000);
  // The browser tests call this instead of waiting for the period.
  window.tandemRefresh = function () {
    return new Promise(function (resolve) {
      refresh();
      (function wait() { if (busy) window.setTimeout(wait, 20); else resolve(true); })();
    });
  };
})();
