// runlab UI: the runs table, the run, compare, sweep and study pages. Talks only to /api on this host.
"use strict";

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
};

// plotly.js (4.8 MB) comes from one loader, the same dynamically inserted script on every page: chromium
// reuses its compiled code only for a script loaded the same way, so the copy the runs page loads in idle
// time serves the chart pages (a fresh browser's first chart, reached from the runs page: 0.4 s instead
// of 1.35 s with a <script> tag, benchmarks/bench_ui.py). One copy per page: a second one replacing
// `Plotly` breaks later changes to the charts the first one drew.
let plotlyLoading = null;
function loadPlotly() {
  if (!plotlyLoading) {
    plotlyLoading = new Promise((resolve, reject) => {
      const script = el("script", { src: "/static/plotly.min.js", async: "" });
      script.addEventListener("load", () => { document.body.dataset.plotly = "loaded"; resolve(window.Plotly); });
      script.addEventListener("error", () => reject(new Error("could not load /static/plotly.min.js")));
      document.head.append(script);
    });
    plotlyLoading.catch(() => {});  // each chart that needed it says so (chartFailed)
  }
  return plotlyLoading;
}

// Chart pages fetch plotly.js at once, while their first API request runs. Come from the browser's cache,
// it was compiled before (~0.1 s to run): it runs at once. Come over the network, compiling and running it
// holds the page for about a second: it runs once the first chart's data has been painted as a sketch
// (plot), or after 3 s on a page that draws nothing, so the data shows without waiting for it.
function preloadPlotly() {
  const link = el("link", { rel: "preload", as: "script", href: "/static/plotly.min.js" });
  link.addEventListener("load", () => {
    const fetched = performance.getEntriesByName(link.href).some((e) => e.transferSize > 0);
    fetched ? setTimeout(loadPlotly, 3000) : loadPlotly();
  });
  link.addEventListener("error", loadPlotly);  // its own error then tells the charts
  document.head.append(link);
}
const painted = () => new Promise((resolve) => {  // after the next frame (at most 0.2 s: a hidden tab has none)
  requestAnimationFrame(() => setTimeout(resolve));
  setTimeout(resolve, 200);
});

async function api(path, params) {
  const url = new URL(path, window.location.origin);
  if (params) {
    for (const [k, v] of Object.entries(params)) {
      if (Array.isArray(v)) v.forEach((x) => url.searchParams.append(k, x));
      else if (v !== null && v !== undefined && v !== "") url.searchParams.set(k, v);
    }
  }
  let resp;
  try {
    resp = await fetch(url, { headers: { Accept: "application/json" } });
  } catch (err) {  // no answer at all ("Failed to fetch"): say what that means and what to do
    throw new Error(`The runlab UI server cannot be reached (${err.message}): is 'runlab ui' still running? `
      + "Start it again and reload the page.");
  }
  const body = await resp.json().catch(() => ({ detail: resp.statusText }));
  if (!resp.ok) {
    const err = new Error(body.detail || resp.statusText);
    err.status = resp.status;
    err.expression = body.expression;  // a bad filter or sort: which text the caret points into
    throw err;
  }
  return body;
}

// The API sends a NaN or an infinity as the text the run's files hold ("NaN", "Infinity", "-Infinity"):
// JSON has no such numbers, and as null a diverged metric would read as one never logged ("–").
const NON_FINITE = new Map([["NaN", NaN], ["Infinity", Infinity], ["-Infinity", -Infinity]]);
const num = (v) => (typeof v === "string" && NON_FINITE.has(v) ? NON_FINITE.get(v) : v);
const finite = (v) => { const n = num(v); return typeof n === "number" && Number.isFinite(n) ? n : null; };  // charts: a gap
const finites = (values) => values.map(finite);

function fmt(value, column) {
  if (value === null || value === undefined) return "–";
  if (!column || column.startsWith("params.") || column.startsWith("metrics.")) value = num(value);  // not a run's name
  if (typeof value === "number" && !Number.isFinite(value)) return Number.isNaN(value) ? "NaN" : value > 0 ? "inf" : "-inf";
  if (column === "duration" && typeof value === "number") {
    if (value < 1) return Math.round(value * 1000) + " ms";
    if (value < 60) return value.toFixed(1) + " s";
    if (value < 3600) return (value / 60).toFixed(1) + " min";
    return (value / 3600).toFixed(1) + " h";
  }
  if (["created", "started", "ended"].includes(column) && typeof value === "string") {
    return value.replace("T", " ").slice(0, 19);
  }
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toPrecision(5).replace(/\.?0+$/, "");
  if (Array.isArray(value)) return value.join(", ") || "–";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// A table cell cut short by the stylesheet (a long name, value or list of tags) shows its full text on hover.
document.addEventListener("mouseover", (ev) => {
  const cell = ev.target.closest && ev.target.closest("td, th");
  if (cell && !cell.title && cell.scrollWidth > cell.clientWidth) cell.title = cell.textContent;
});

const statusBadge = (status) => el("span", { class: `status status-${status}`, text: status });
const pretty = (obj) => JSON.stringify(obj, null, 2);

// -- runs table -----------------------------------------------------------------------
function runsPage() {
  const state = new URLSearchParams(window.location.search);
  const selected = new Set();
  let timer = null;
  let lastColumns = [];
  $("#where").value = state.get("where") || "";

  const save = () => history.replaceState(null, "", "?" + state.toString());
  // one name per `column` in the address, so any name works (params.a,b); an older address's
  // `columns=name,params.lr` (names without commas) is read and rewritten in that form
  const columns = () => [...state.getAll("columns").flatMap((t) => t.split(",")).map((c) => c.trim()).filter(Boolean),
    ...state.getAll("column")];
  const setColumns = (cols) => {
    state.delete("columns");
    state.delete("column");
    cols.forEach((c) => state.append("column", c));
  };
  if (state.has("columns")) { setColumns(columns()); save(); }

  async function load() {
    clearTimeout(timer);
    let page;
    try {
      page = await api("/api/runs", {
        where: state.get("where"), sort: state.get("sort"), offset: state.get("offset") || 0,
        limit: state.get("limit") || 50, column: columns(), archived: state.get("archived") || "no",
      });
    } catch (err) {
      $("#where-error").textContent = err.message;
      if (state.get("sort") && err.expression === state.get("sort")) {  // from the address: no header to click
        $("#where-error").append("\n", el("button", { type: "button", id: "sort-reset", text: "Sort by created instead",
          onclick: () => { state.delete("sort"); save(); load(); } }));
      }
      $("#where-error").hidden = false;
      $("#count").textContent = "";
      $("#runs tbody").replaceChildren();
      return;
    }
    $("#where-error").hidden = true;
    render(page);
    $("#live").textContent = page.live ? `${page.live} running · refreshing` : "";
    if (page.live) timer = setTimeout(load, 2000);
  }

  function render(page) {
    lastColumns = page.columns;
    const sort = state.get("sort") || "-created";
    const head = el("tr", {}, el("th", {}), el("th", { text: "id", onclick: () => setSort("id") }));
    page.columns.forEach((c, i) => {
      const mark = sort === c ? " ▲" : sort === "-" + c ? " ▼" : "";
      const th = page.sortable[i]  // tags (a list), path and archived are shown but cannot order runs
        ? el("th", { "data-col": c, onclick: () => setSort(c) }, c + mark)
        : el("th", { "data-col": c, title: `runs cannot be sorted by ${c}` }, c);
      th.append(el("span", { class: "rm", title: "remove column", text: "×",
        onclick: (ev) => { ev.stopPropagation(); removeColumn(c); } }));
      head.append(th);
    });
    $("#runs thead").replaceChildren(head);
    const rows = page.runs.map((run) => {
      const box = el("input", { type: "checkbox", "data-id": run.id });
      box.checked = selected.has(run.id);
      box.addEventListener("change", () => {
        box.checked ? selected.add(run.id) : selected.delete(run.id);
        $("#compare-btn").disabled = selected.size < 2;
        $("#compare-btn").textContent = `Compare selected (${selected.size})`;
      });
      const idCell = el("td", {}, el("a", { href: `/runs/${run.id}`, text: run.id }));
      if (run.archived) idCell.append(" ", el("span", { class: "status status-archived", text: "archived" }));
      const tr = el("tr", { "data-id": run.id, "data-status": run.status }, el("td", {}, box), idCell);
      run.cells.forEach((v, i) => {
        const c = page.columns[i];
        if (c === "status") tr.append(el("td", {}, statusBadge(v)));
        else tr.append(el("td", { class: typeof num(v) === "number" ? "num" : "" }, fmt(v, c)));
      });
      return tr;
    });
    if (!rows.length) {
      const filtered = state.get("where");
      const cell = el("td", { colspan: String(page.columns.length + 2), class: "muted" });
      if (page.total) {  // an address kept from when there were more runs: past the last page
        cell.append(`No runs on this page: the ${page.total} run${page.total === 1 ? "" : "s"} end before run ${page.offset + 1}. `,
          el("button", { type: "button", id: "first-page", text: "Go to the first page",
            onclick: () => { state.delete("offset"); save(); load(); } }));
      } else {
        cell.textContent = filtered ? "No runs match this filter." : `No runs in ${document.querySelector(".root").textContent} yet.`;
      }
      rows.push(el("tr", {}, cell));
    }
    $("#runs tbody").replaceChildren(...rows);
    const first = page.runs.length ? page.offset + 1 : 0;
    const last = page.runs.length ? page.offset + page.runs.length : 0;
    $("#count").textContent = `${page.total} run${page.total === 1 ? "" : "s"}`;
    $("#page-info").textContent = `${first}–${last}`;
    $("#prev").disabled = page.offset <= 0;
    $("#next").disabled = page.offset + page.runs.length >= page.total;
  }

  function setSort(c) {
    const sort = state.get("sort") || "-created";
    state.set("sort", sort === "-" + c ? c : "-" + c);
    state.delete("offset");
    save(); load();
  }
  function removeColumn(c) {
    setColumns(lastColumns.filter((x) => x !== c));
    save(); load();
  }
  function page(delta) {
    const limit = Number(state.get("limit") || 50);
    state.set("offset", Math.max(0, Number(state.get("offset") || 0) + delta * limit));
    save(); load();
  }

  $("#filter").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const where = $("#where").value.trim();
    where ? state.set("where", where) : state.delete("where");
    state.delete("offset");
    save(); load();
  });
  $("#archived").value = state.get("archived") || "no";
  $("#archived").addEventListener("change", () => {
    $("#archived").value === "no" ? state.delete("archived") : state.set("archived", $("#archived").value);
    state.delete("offset");
    save(); load();
  });
  $("#prev").addEventListener("click", () => page(-1));
  $("#next").addEventListener("click", () => page(1));
  $("#col-add").addEventListener("click", () => {
    const name = $("#col-input").value.trim();
    if (!name) return;
    const cols = lastColumns.includes(name) ? lastColumns : [...lastColumns, name];
    setColumns(cols);
    $("#col-input").value = "";
    save(); load();
  });
  $("#col-reset").addEventListener("click", () => { setColumns([]); save(); load(); });
  let fieldTimer = null;
  $("#col-input").addEventListener("input", () => {  // names load as the user types: never all 10,000
    clearTimeout(fieldTimer);
    fieldTimer = setTimeout(async () => {
      const q = $("#col-input").value.replace(/^(params|metrics)\.?/, "");
      const found = await api("/api/fields", { q, limit: 50 });
      const opts = [...found.params.map((p) => "params." + p), ...found.metrics.map((m) => "metrics." + m)];
      $("#col-options").replaceChildren(...opts.map((o) => el("option", { value: o })));
    }, 200);
  });
  $("#compare-btn").addEventListener("click", () => {
    window.location.href = "/compare?ids=" + [...selected].join(",");
  });
  load();
}

// -- charts ---------------------------------------------------------------------------
function ema(values, alpha) {
  if (!alpha) return values;
  let last = null;
  let debias = 0;
  return values.map((v) => {
    if (v === null) return null;
    last = last === null ? (1 - alpha) * v : alpha * last + (1 - alpha) * v;
    debias = alpha * debias + (1 - alpha);
    return last / debias;
  });
}

const chartLayout = (logy, extra = {}) => ({
  margin: { l: 55, r: 20, t: 20, b: 40 }, xaxis: { title: { text: "step" } },
  yaxis: { type: logy ? "log" : "linear" }, legend: { orientation: "h" }, hovermode: "x unified", ...extra,
});
const plotConfig = { responsive: true, displaylogo: false };

// A chart's first paint before plotly.js has loaded (a fresh browser compiles its 4.8 MB for about a
// second): the same line traces as a static SVG, captioned as a preview; the first Plotly.react removes
// it. Only numeric scatter traces drawn with lines on linear or log-y axes; anything else waits for plotly.
const SVG = "http://www.w3.org/2000/svg";
const svg = (tag, attrs = {}, text = "") => {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
};
const titleText = (t) => (t && typeof t === "object" ? t.text : t) || "";
const tickLabel = (v) => String(Number(v.toPrecision(4)));

function ticks(lo, hi, log) {  // 3-6 round values in [lo, hi]; powers of ten on a log axis
  if (log && hi - lo >= 1) {
    const out = [];
    for (let e = Math.ceil(lo); e <= hi; e += Math.max(1, Math.ceil((hi - lo) / 5))) out.push(e);
    return out;
  }
  const rough = hi / 5 - lo / 5;  // halves and fifths first: hi - lo overflows near ±1.8e308
  const mag = 10 ** Math.floor(Math.log10(rough));
  const step = mag * [1, 2, 5, 10].find((m) => m * mag >= rough);
  const out = [];
  const top = Math.min(hi + step * 1e-9, Number.MAX_VALUE);  // near the largest float the slack is infinite
  for (let i = Math.ceil(lo / step); i * step <= top; i++) out.push(i * step);
  return out;
}

function unsketch(node) {
  node.querySelector(":scope > .chart-sketch")?.remove();
  delete node.dataset.sketch;
}

function sketch(node, traces, layout) {
  unsketch(node);
  const xa = layout.xaxis || {};
  const ya = layout.yaxis || {};
  const log = ya.type === "log";
  const shown = traces.filter((t) => t.visible !== false);
  const W = node.clientWidth;
  const H = node.clientHeight;
  if (!W || !H || !shown.length || (xa.type && xa.type !== "linear") || (ya.type && !["linear", "log"].includes(ya.type))
      || xa.range || ya.range || shown.some((t) => (t.type || "scatter") !== "scatter" || (t.mode && !t.mode.includes("lines"))
      || (t.x && !t.x.every((v) => v === null || typeof v === "number")))) return;
  const yOf = (v) => (typeof v !== "number" || !Number.isFinite(v) || (log && v <= 0) ? null : log ? Math.log10(v) : v);
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  const lines = traces.map((t, i) => {
    const pts = t.visible === false || t.line?.width === 0 ? [] : (t.y || []).map((v, j) => [t.x ? t.x[j] : j, yOf(v)]);
    for (const [x, y] of pts) {
      if (x === null || y === null || !Number.isFinite(x)) continue;
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
    return { pts, color: t.line?.color || PALETTE[i % PALETTE.length], opacity: t.opacity ?? 1 };
  });
  if (x0 > x1) return;  // not one finite point
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  const pad = y1 > y0 ? y1 / 20 - y0 / 20 : 1;  // as plotly's autorange leaves room around lines
  [y0, y1] = [Math.max(y0 - pad, -Number.MAX_VALUE), Math.min(y1 + pad, Number.MAX_VALUE)];
  const m = { l: 80, r: 80, t: 100, b: 80, ...layout.margin };
  if (layout.legend?.orientation === "h" && layout.showlegend !== false) m.b += 35;  // plotly's legend, below
  const sx = (x) => (m.l + ((x / 2 - x0 / 2) / (x1 / 2 - x0 / 2)) * (W - m.l - m.r)).toFixed(1);  // halves: no overflow
  const sy = (y) => (H - m.b - ((y / 2 - y0 / 2) / (y1 / 2 - y0 / 2)) * (H - m.t - m.b)).toFixed(1);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "chart preview" });
  for (const x of ticks(x0, x1, false)) {
    root.append(svg("line", { class: "grid", x1: sx(x), x2: sx(x), y1: m.t, y2: H - m.b }),
      svg("text", { x: sx(x), y: H - m.b + 14, "text-anchor": "middle" }, tickLabel(x)));
  }
  for (const y of ticks(y0, y1, log)) {
    root.append(svg("line", { class: "grid", x1: m.l, x2: W - m.r, y1: sy(y), y2: sy(y) }),
      svg("text", { x: m.l - 6, y: sy(y), "text-anchor": "end", "dominant-baseline": "middle" }, tickLabel(log ? 10 ** y : y)));
  }
  root.append(svg("rect", { class: "frame", x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b }));
  for (const { pts, color, opacity } of lines) {
    let d = "";
    let open = false;
    pts.forEach(([x, y], j) => {
      if (x === null || y === null || !Number.isFinite(x)) { open = false; return; }
      d += `${open ? "L" : "M"}${sx(x)} ${sy(y)}`;
      const next = pts[j + 1];
      if (!open && (!next || next[1] === null || !Number.isFinite(next[0]))) d += "h0";  // a lone point: a dot
      open = true;
    });
    if (d) root.append(svg("path", { class: "line", d, stroke: color, "stroke-opacity": opacity }));
  }
  const xt = titleText(xa.title);
  const yt = titleText(ya.title);
  const title = titleText(layout.title);
  if (xt) root.append(svg("text", { x: (m.l + W - m.r) / 2, y: H - m.b + 32, "text-anchor": "middle" }, xt));
  if (yt) root.append(svg("text", { transform: `translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)`, "text-anchor": "middle" }, yt));
  if (title) root.append(svg("text", { class: "title", x: W / 2, y: Math.max(16, m.t / 2), "text-anchor": "middle" }, title));
  node.append(el("div", { class: "chart-sketch" }, root, el("p", { class: "chart-note", text: "loading interactive chart…" })));
  node.dataset.sketch = "1";
}

function chartFailed(node, err) {  // the sketch, if any, stays; its caption says why nothing replaces it
  let note = node.querySelector(".chart-note");
  if (!note) node.append((note = el("p", { class: "chart-note" })));
  note.classList.add("error");
  note.textContent = `interactive chart unavailable: ${err.message}`;
}

// The draws of one chart run one after another, once plotly.js has loaded: Plotly.react settles
// asynchronously, and a live update, a zoom's refetch and the smoothing slider may ask at the same time.
// Until then each draw shows at once as a sketch; a failed one is told on the chart.
const drawing = new Map();  // element id -> the promise of its latest draw
function plot(div, traces, layout, config = plotConfig) {
  const id = typeof div === "string" ? div : div.id;
  const node = document.getElementById(id);
  if (!window.Plotly) sketch(node, traces, layout);
  const next = (drawing.get(id) || Promise.resolve()).catch(() => {}).then(() => plotlyLoading || painted())
    .then(loadPlotly).then(() => { unsketch(node); return Plotly.react(div, traces, layout, config); });
  next.catch((err) => { console.error(err); chartFailed(node, err); });
  drawing.set(id, next);
  return next;
}
function unplot(id) {  // clear a chart, after the draws asked for before
  drawing.set(id, (drawing.get(id) || Promise.resolve()).catch(() => {}).then(loadPlotly).then(() => Plotly.purge(id)));
}
// Resolves once every draw of that chart asked for so far has finished (the browser tests wait on it).
window.runlabDrawn = (id) => (drawing.get(id) || Promise.resolve()).catch(() => {}).then(() => document.getElementById(id));

// -- run page -------------------------------------------------------------------------
function runPage() {
  const runId = document.body.dataset.run;
  const chosen = new Set();
  let details = null;
  let zoom = null;
  let series = {};
  let logOffset = -1;
  const chartNode = el("div", { id: "chart", class: "chart" });

  async function loadDetails() {
    details = await api(`/api/runs/${runId}`);
    const r = details.run;
    $("#run-title").replaceChildren(r.name || r.id, " ", statusBadge(r.status));
    const meta = el("dl", { class: "meta" });
    const add = (k, v) => { meta.append(el("dt", { text: k }), el("dd", {}, v ?? "–")); };
    add("id", r.id); add("namespace", r.namespace); add("experiment", r.experiment || "–");
    add("created", fmt(r.created, "created")); add("started", fmt(r.started, "started"));
    add("ended", fmt(r.ended, "ended")); add("duration", fmt(r.duration, "duration"));
    add("tags", fmt(r.tags)); add("folder", r.path);
    if (r.sweep) add("sweep", el("a", { href: `/sweeps/${r.sweep}`, id: "sweep-link", text: r.sweep }));
    if (r.study) add("study", el("a", { href: `/studies/${encodeURIComponent(r.study)}`, id: "study-link", text: r.study }));
    if (r.parent) add("parent", el("a", { href: `/runs/${r.parent}`, text: r.parent }));
    if (r.description) add("description", r.description);
    $("#summary").replaceChildren(meta);
    const rows = Object.entries(r.params_flat).map(([k, v]) => {
      const info = details.param_info[k.split(".")[0]] || {};
      return el("tr", {}, el("th", { text: k }), el("td", { text: fmt(v) }),
        el("td", { class: "muted", text: [info.type, info.description].filter(Boolean).join(" · ") }));
    });
    $("#params").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { class: "muted", text: "none" }))]));
    if (Object.keys(details.data).length) { $("#data").textContent = pretty(details.data); $("#data-section").hidden = false; }
    $("#problems").textContent = details.problems.join("\n");
    $("#problems").hidden = !details.problems.length;
    const err = details.error_detail;
    if (err) {
      $("#error-trace").textContent = typeof err === "string" ? err : (err.traceback || `${err.type}: ${err.message}`);
      $("#error-section").hidden = false;
    }
    $("#git").textContent = details.git ? pretty(details.git) : "not captured";
    $("#env").textContent = details.env ? pretty(details.env) : "not captured";
    $("#plugins").textContent = pretty({ plugins: details.plugins, hooks: details.hooks });
    renderArtifacts();
    if (!chosen.size && details.metrics.length) chosen.add(details.metrics[0]);
    renderMetricChoice();
    $("#sys-section").hidden = !details.system_metrics.length;
  }

  function renderMetricChoice() {  // a run may log thousands of metrics: show the chosen and 40 matches
    const q = $("#metric-filter").value.trim().toLowerCase();
    $("#metric-filter").hidden = details.metrics.length <= 40;
    const matches = details.metrics.filter((m) => chosen.has(m) || m.toLowerCase().includes(q));
    const shown = matches.filter((m) => chosen.has(m)).concat(matches.filter((m) => !chosen.has(m)).slice(0, 40));
    const boxes = shown.map((m) => {
      const box = el("input", { type: "checkbox", value: m });
      box.checked = chosen.has(m);
      box.addEventListener("change", () => { box.checked ? chosen.add(m) : chosen.delete(m); loadMetrics(); });
      return el("label", {}, box, " " + m);
    });
    const more = matches.length - shown.length;
    if (more > 0) boxes.push(el("span", { class: "muted", text: `and ${more} more: type to find them` }));
    $("#metric-choice").replaceChildren(...(boxes.length ? boxes : [el("span", { class: "muted", text: "no metrics" })]));
    // the chart and its tools are there only once the run has metrics: a run without any says so, and that is all
    for (const node of document.querySelectorAll(".chart-tool")) node.hidden = !details.metrics.length;
    if (details.metrics.length && !chartNode.isConnected) $("#metrics-section").append(chartNode);
  }

  function renderArtifacts() {
    const items = details.artifacts.map((a) => {
      const href = `/api/runs/${runId}/artifacts/${a.name.split("/").map(encodeURIComponent).join("/")}`;
      const item = el("div", { class: "item" });
      if (a.kind === "image") item.append(el("a", { href, target: "_blank" }, el("img", { src: href, alt: a.name })));
      item.append(el("div", {}, el("a", { href, text: a.name }), el("span", { class: "muted", text: ` ${a.size} B` })));
      if (a.kind === "text" || a.kind === "json") {
        item.append(el("button", { type: "button", text: "view", onclick: () => viewArtifact(href, a) }));
      }
      return item;
    });
    $("#artifacts").replaceChildren(...(items.length ? items : [el("span", { class: "muted", text: "none" })]));
  }

  async function viewArtifact(href, a) {
    const view = $("#artifact-view");
    view.hidden = false;
    if (a.size > 2_000_000) { view.textContent = `${a.name} is ${a.size} bytes: download it instead.`; return; }
    const text = await (await fetch(href)).text();
    if (a.kind === "json") {
      try { view.textContent = pretty(JSON.parse(text)); return; } catch (e) { /* JSON lines or invalid: raw */ }
    }
    view.textContent = text;
  }

  function draw() {
    const alpha = Number($("#smooth").value);
    const traces = [];
    for (const [name, s] of Object.entries(series)) {
      if (!chosen.has(name)) continue;
      traces.push({ x: s.steps, y: s.values, name, mode: s.steps.length < 30 ? "lines+markers" : "lines", type: "scatter",
        opacity: alpha ? 0.25 : 1, showlegend: !alpha });
      if (alpha) traces.push({ x: s.steps, y: ema(s.values, alpha), name, mode: "lines", type: "scatter" });
    }
    const layout = chartLayout($("#logy").checked, { uirevision: "keep" });
    if (zoom) layout.xaxis.range = zoom;
    const drawn = plot("chart", traces, layout, plotConfig);
    const info = Object.entries(series).filter(([n]) => chosen.has(n))
      .map(([n, s]) => `${n}: ${s.steps.length}${s.downsampled ? ` of ${s.count}` : ""} points`);
    $("#points-info").textContent = info.join(" · ");
    return drawn;
  }

  async function loadMetrics() {
    const names = [...chosen];
    if (!details.metrics.length) return;  // no chart, only "no metrics" (a live run's first metric brings it)
    if (!names.length) { series = {}; await draw().catch(() => {}); return; }
    const body = await api(`/api/runs/${runId}/metrics`, {
      name: names, points: 2000, start: zoom ? Math.floor(zoom[0]) : null, end: zoom ? Math.ceil(zoom[1]) : null,
    });
    series = body.metrics;
    for (const s of Object.values(series)) s.values = finites(s.values);
    await draw().catch(() => {});  // told on the chart; the log and the live updates go on
    followZooms();
    return body;
  }

  async function loadSystem() {
    if (!details.system_metrics.length) return;
    const body = await api(`/api/runs/${runId}/metrics`, { name: details.system_metrics.slice(0, 12), points: 1000 });
    const traces = Object.entries(body.metrics).map(([name, s]) =>
      ({ x: s.steps, y: finites(s.values), name, mode: s.steps.length < 30 ? "lines+markers" : "lines", type: "scatter" }));
    plot("sys-chart", traces, chartLayout(false, { uirevision: "keep" }), plotConfig);
  }

  async function loadLog() {
    const body = await api(`/api/runs/${runId}/log`, { offset: logOffset });
    const log = $("#log");
    const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 5;
    if (logOffset < 0 && body.skipped) log.textContent = `[… ${body.skipped} earlier bytes not shown]\n`;
    if (body.error) log.textContent = `[${body.error}]\n`;
    log.append(body.text);
    logOffset = body.offset;
    if (atEnd) log.scrollTop = log.scrollHeight;
    $("#log-state").textContent = body.live ? "following" : "";
    if (!log.textContent) log.textContent = "(empty)";
    return body;
  }

  function stopped(err) {  // the run was deleted while the page was open, or the server went away: say so
    $("#run-error").textContent = err.status === 404
      ? `This run is no longer in the store (deleted while this page was open?); the page shows what it had read. ${err.message}`
      : `This page stopped updating: ${err.message}`;
    $("#run-error").hidden = false;
    $("#log-state").textContent = "";
  }

  async function follow() {  // while the run runs: charts grow, the log follows, new metrics appear
    try {
      await loadDetails();
      const body = await loadMetrics();
      await loadSystem();
      const log = await loadLog();
      if ((body && body.live) || log.live || details.live) setTimeout(follow, 1500);
      else await loadDetails();
    } catch (err) {
      stopped(err);
    }
  }

  $("#metric-filter").addEventListener("input", renderMetricChoice);
  $("#logy").addEventListener("change", draw);
  $("#smooth").addEventListener("input", draw);
  function followZooms() {  // once the chart is plotly's (not a sketch left by a plotly.js that failed to load)
    const chart = document.getElementById("chart");
    if (!chart.on || chart.dataset.ready) return;
    chart.on("plotly_relayout", (ev) => {
      if (ev["xaxis.range[0]"] !== undefined) zoom = [ev["xaxis.range[0]"], ev["xaxis.range[1]"]];
      else if (Array.isArray(ev["xaxis.range"])) zoom = ev["xaxis.range"].slice();
      else if (ev["xaxis.autorange"]) zoom = null;
      else return;
      loadMetrics();  // the zoomed window again, in full detail
    });
    chart.dataset.ready = "true";  // drawn, and following zooms
  }

  loadDetails().then(async () => {
    await loadMetrics();
    await loadSystem();
    await loadLog();
    if (details.live) setTimeout(follow, 1500);
  }).catch(stopped);
}

// -- parallel coordinates (compare, sweep and study pages) ------------------------------
function axis(label, values, options = {}) {  // numbers as they are (log10 when asked), anything else as categories
  if (values.every((v) => v === null || typeof num(v) === "number")) {  // NaN, infinities and missing: off the axis
    const nums = values.map((v) => finite(v) ?? NaN);
    if (options.log) return { label: `log10(${label})`, values: nums.map((v) => (v > 0 ? Math.log10(v) : NaN)) };
    return { label, values: nums };
  }
  const cats = [...new Set(values.map((v) => fmt(v)))];
  return { label, values: values.map((v) => cats.indexOf(fmt(v))), tickvals: cats.map((_, i) => i), ticktext: cats };
}

function drawParallel(div, dims, colorValues, names) {  // plotly's parcoords (WebGL), else the same axes in SVG
  const line = colorValues ? { color: colorValues.map((v) => finite(v) ?? 0), colorscale: "Viridis", showscale: true } : {};
  plot(div, [{ type: "parcoords", dimensions: dims, line }], { margin: { l: 60, r: 60, t: 40, b: 20 } }, plotConfig)
    .then((node) => {
      if (node.querySelector(".no-webgl")) {
        Plotly.purge(node);
        drawParallelSVG(div, dims, names);
      }
    });
}

function drawParallelSVG(div, dims, names) {  // without WebGL: one SVG line per row over axes scaled to 0..1
  const labels = dims.map((d) => d.label);
  const notes = [];  // each axis's range (or its categories) written beside it
  const scaled = dims.map((d) => {
    const finite = d.values.filter((v) => Number.isFinite(v));
    const lo = Math.min(...finite);
    const hi = Math.max(...finite);
    const at = (v) => (hi > lo ? (v - lo) / (hi - lo) : 0.5);
    const note = (y, text) => notes.push({ x: d.label, y, text, xref: "x", yref: "y", showarrow: false,
      xanchor: "left", xshift: 4, font: { size: 10, color: "#6b7280" } });
    if (d.ticktext) d.ticktext.forEach((t, i) => note(at(i), t));
    else if (finite.length) { note(at(hi), fmt(hi)); if (hi > lo) note(at(lo), fmt(lo)); }
    return d.values.map((v) => (Number.isFinite(v) ? at(v) : null));
  });
  const traces = names.map((name, i) => ({
    x: labels, y: scaled.map((col) => col[i]), mode: "lines+markers", name, type: "scatter",
    line: { color: PALETTE[i % PALETTE.length] },
    text: dims.map((d) => (d.ticktext ? d.ticktext[d.values[i]] : fmt(d.values[i]))), hovertemplate: "%{x}: %{text}",
  }));
  const layout = { margin: { l: 40, r: 20, t: 20, b: 40 }, yaxis: { showticklabels: false, range: [-0.05, 1.05] },
    xaxis: { type: "category" }, showlegend: names.length <= 20, annotations: notes };
  plot(div, traces, layout, plotConfig);
}

// -- compare page ---------------------------------------------------------------------
const MANY_CURVES = 20;
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

function withAlpha(hex, a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
}

function comparePage() {
  const state = new URLSearchParams(window.location.search);
  const ids = (state.getAll("ids").join(",")).split(",").filter(Boolean);
  let data = null;
  const save = () => history.replaceState(null, "", "?" + state.toString());

  async function load() {
    if (!ids.length) {
      $("#compare-error").textContent = "Choose runs to compare on the runs page (tick two or more, then Compare).";
      $("#compare-error").hidden = false;
      return;
    }
    try {
      const points = Math.max(100, Math.min(1000, Math.floor(20000 / ids.length)));  // SVG stays quick at 100 runs
      data = await api("/api/compare", { ids: ids.join(","), metric: state.get("metric"), group_by: state.get("group_by"), points });
    } catch (err) {
      $("#compare-error").textContent = err.message;
      $("#compare-error").hidden = false;
      return;
    }
    $("#compare-count").textContent = `${data.runs.length} runs`;
    const unknown = data.metric && !data.metrics.includes(data.metric);  // an address naming a metric none of them logs
    $("#metric").replaceChildren(...[...data.metrics, ...(unknown ? [data.metric] : [])].map((m) => el("option", { value: m, text: m })));
    $("#metric").value = data.metric || "";
    $("#compare-error").textContent = unknown
      ? `None of these runs has logged a metric '${data.metric}'${data.live ? " yet" : ""}: choose one in the metric menu.` : "";
    $("#compare-error").hidden = !unknown;
    const groupable = data.params.filter((p) => p.differs).map((p) => "params." + p.key);
    $("#group-by").replaceChildren(el("option", { value: "", text: "none" }),
      ...groupable.map((g) => el("option", { value: g, text: g })));
    $("#group-by").value = data.group_by || "";
    drawCurves();
    setTimeout(() => { drawDiff(); drawParcoords(); }, 0);  // the curves show first; the table and axes follow
    if (data.live) setTimeout(load, 3000);
  }

  function drawCurves() {
    const traces = [];
    if (data.groups.length) {
      const std = $("#band").value === "std";
      data.groups.forEach((g, i) => {
        const color = PALETTE[i % PALETTE.length];
        const b = g.band;
        if (!b.step || !b.step.length) return;
        const lo = std ? b.mean.map((m, j) => m - b.std[j]) : b.min;
        const hi = std ? b.mean.map((m, j) => m + b.std[j]) : b.max;
        const label = `${data.group_by}=${fmt(g.value)} (${g.runs.length})`;
        traces.push({ x: b.step, y: hi, mode: "lines", line: { width: 0 }, showlegend: false, hoverinfo: "skip", legendgroup: label });
        traces.push({ x: b.step, y: lo, mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: withAlpha(color, 0.2),
          showlegend: false, hoverinfo: "skip", legendgroup: label });
        traces.push({ x: b.step, y: b.mean, mode: "lines", name: label, line: { color }, legendgroup: label });
      });
    } else {
      // SVG, not scattergl: 100 curves of a few hundred points draw in ~0.15 s, WebGL without a GPU takes 4x longer
      data.curves.forEach((c, i) => traces.push({ x: c.steps, y: finites(c.values), name: c.name, mode: "lines", type: "scatter",
        line: { color: PALETTE[i % PALETTE.length] } }));
    }
    const many = data.curves.length > MANY_CURVES && !data.groups.length;  // 100 legend entries cost more than the curves
    plot("curves", traces, chartLayout($("#logy").checked,
      { uirevision: "keep", showlegend: !many, hovermode: many ? "closest" : "x unified" }), plotConfig);
  }

  function drawDiff() {
    const only = $("#only-diff").checked;
    const head = el("tr", {}, el("th", { text: "" }),
      ...data.runs.map((r) => el("th", {}, el("a", { href: `/runs/${r.id}`, text: r.name || r.id }), " ", statusBadge(r.status))));
    const rows = data.params.filter((p) => !only || p.differs).map((p) =>
      el("tr", { class: p.differs ? "differs" : "same" }, el("td", { text: p.key }),
        ...p.values.map((v) => el("td", { class: typeof num(v) === "number" ? "num" : "", text: fmt(v) }))));
    const metricRows = Object.entries(data.final).slice(0, 50).map(([m, vals]) =>
      el("tr", { class: "differs" }, el("td", { text: "metrics." + m }),
        ...vals.map((v) => el("td", { class: "num", text: fmt(v) }))));
    $("#param-diff").replaceChildren(head, ...rows, ...metricRows);
  }

  function drawParcoords() {
    const dims = data.params.filter((q) => q.differs).map((p) => axis(p.key, p.values));
    const metricVals = data.metric ? data.final[data.metric] : null;
    if (metricVals) dims.push(axis(data.metric, metricVals));
    if (!dims.length) { $("#parcoords").textContent = "No parameters differ."; return; }
    drawParallel("parcoords", dims, metricVals, data.runs.map((r) => r.name || r.id));
  }

  $("#metric").addEventListener("change", () => { state.set("metric", $("#metric").value); save(); load(); });
  $("#group-by").addEventListener("change", () => {
    $("#group-by").value ? state.set("group_by", $("#group-by").value) : state.delete("group_by");
    save(); load();
  });
  $("#band").addEventListener("change", drawCurves);
  $("#logy").addEventListener("change", drawCurves);
  $("#only-diff").addEventListener("change", drawDiff);
  load();
}

// -- sweeps and studies ----------------------------------------------------------------
const whereLink = (field, value) => "/?where=" + encodeURIComponent(`${field} == '${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`);
const runLinks = (ids) => (ids.length ? ids.map((id) => el("a", { href: `/runs/${id}`, text: id, class: "run-link" })) : ["–"]);

function metaList(pairs) {  // [label, text or node] -> a definition list; empty values are left out
  const meta = el("dl", { class: "meta" });
  for (const [k, v] of pairs) {
    if (v === null || v === undefined || v === "") continue;
    meta.append(el("dt", { text: k }), el("dd", {}, ...(Array.isArray(v) ? v : [v])));
  }
  return meta;
}

const countsText = (counts) => Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(", ") || "none";

function sortable(table, head, rows) {  // head: [{label, key(row) -> value}]; click a header to sort, again to reverse
  let by = null;
  let desc = false;
  function render() {
    const order = rows.slice();
    if (by !== null) {
      const key = head[by].key;
      const rank = (v) => (v === null || v === undefined || Number.isNaN(v) ? 2 : typeof v === "number" ? 0 : 1);
      order.sort((a, b) => {
        const va = num(key(a.data));
        const vb = num(key(b.data));
        if (rank(va) !== rank(vb)) return rank(va) - rank(vb);  // missing values last, either way
        const c = rank(va) === 0 ? va - vb : String(va).localeCompare(String(vb));
        return desc ? -c : c;
      });
    }
    const tr = el("tr", {}, ...head.map((h, i) => el("th", {
      "data-col": h.label, onclick: () => { desc = by === i ? !desc : h.desc === true; by = i; render(); },
    }, h.label + (by === i ? (desc ? " ▼" : " ▲") : ""))));
    table.querySelector("thead").replaceChildren(tr);
    table.querySelector("tbody").replaceChildren(...order.map((r) => r.node));
  }
  render();
}

function listPage(kind) {  // /sweeps and /studies
  async function load() {
    let body;
    try {
      body = await api(`/api/${kind}`);
    } catch (err) {
      $("#list-error").textContent = err.message;
      $("#list-error").hidden = false;
      return;
    }
    const items = body[kind];
    $("#list-count").textContent = `${items.length}`;
    let head;
    let rows;
    if (kind === "sweeps") {
      head = [{ label: "id", key: (s) => s.id }, { label: "state", key: (s) => s.state },
        { label: "completed", key: (s) => s.counts.completed || 0, desc: true }, { label: "total", key: (s) => s.total, desc: true },
        { label: "swept", key: (s) => s.sweeps.join(" ") }, { label: "experiment", key: (s) => s.experiment },
        { label: "created", key: (s) => s.created, desc: true }];
      rows = items.map((s) => ({ data: s, node: el("tr", { "data-id": s.id },
        el("td", {}, el("a", { href: `/sweeps/${s.id}`, text: s.name ? `${s.name} (${s.id})` : s.id })),
        el("td", {}, statusBadge(s.state)), el("td", { class: "num", text: String(s.counts.completed || 0) }),
        el("td", { class: "num", text: String(s.total) }), el("td", { text: s.sweeps.join("  ") || s.mode || "" }),
        el("td", { text: s.experiment }), el("td", { text: fmt(s.created, "created") })) }));
      $("#list-hint").textContent = items.length ? "" : "No sweeps yet. Start one with: runlab run FILE --sweep NAME=V1,V2";
    } else {
      head = [{ label: "name", key: (s) => s.name }, { label: "trials", key: (s) => s.trials, desc: true },
        { label: "complete", key: (s) => s.counts.complete || 0, desc: true }, { label: "best", key: (s) => (s.best ? s.best[0] : null) },
        { label: "objective", key: (s) => s.objectives.join(", ") }, { label: "experiment", key: (s) => s.experiment },
        { label: "created", key: (s) => s.created, desc: true }];
      rows = items.map((s) => ({ data: s, node: el("tr", { "data-id": s.name },
        el("td", {}, el("a", { href: `/studies/${encodeURIComponent(s.name)}`, text: s.name })),
        el("td", { class: "num", text: s.trials === null ? "?" : String(s.trials) }),
        el("td", { class: "num", text: String(s.counts.complete || 0) }),
        el("td", { class: "num", text: s.problem ? s.problem : s.best ? s.best.map((v) => fmt(v)).join(", ") : s.pareto ? `Pareto front of ${s.pareto}` : "–" }),
        el("td", { text: s.objectives.map((o, i) => `${o} (${s.directions[i] || ""})`).join(", ") }),
        el("td", { text: s.experiment }), el("td", { text: fmt(s.created, "created") })) }));
      $("#list-hint").textContent = items.length ? "" : "No studies yet. Start one with: runlab optimize FILE -n N --search NAME=float(LOW,HIGH)";
    }
    sortable($("#list"), head, rows);
  }
  load();
}

function sweepPage() {
  const sweepId = document.body.dataset.sweep;
  const state = new URLSearchParams(window.location.search);
  const save = () => history.replaceState(null, "", "?" + state.toString());
  let data = null;

  async function load() {
    try {
      data = await api(`/api/sweeps/${sweepId}`, { sort: state.get("sort") });
    } catch (err) {
      $("#sweep-error").textContent = err.message;
      if (err.status === 400 && state.get("sort")) {  // the address's sort, the one value it sends: a way back
        $("#sweep-error").append("\n", el("button", { type: "button", id: "sort-reset", text: "Show the configs in order",
          onclick: () => { state.delete("sort"); save(); load(); } }));
      }
      $("#sweep-error").hidden = false;
      return;
    }
    $("#sweep-error").hidden = true;
    const d = data.definition;
    $("#sweep-title").replaceChildren(`sweep ${data.name || data.id} `, statusBadge(data.state));
    $("#sweep-summary").replaceChildren(metaList([
      ["id", data.id], ["experiment", d.path], ["swept", (d.sweeps || []).join("  ")], ["overrides", (d.argv || []).join(" ")],
      ["configs", (d.configs || []).join(", ")], ["mode", d.samples ? `random, ${d.samples} samples, seed ${d.seed}` : d.mode],
      ["executor", data.executor && data.executor.name ? `${data.executor.name} x${data.executor.workers ?? ""}` : ""],
      ["runs", `${countsText(data.counts)} (of ${data.total})`], ["created", fmt(data.created, "created")], ["ended", fmt(data.ended, "ended")],
    ]), metaList([["find", el("a", { href: whereLink("sweep", data.id), text: `sweep == '${data.id}'` })]]));
    $("#runs-link").href = whereLink("sweep", data.id);
    const keep = (sel, options, wanted) => {
      const current = $(sel).value;
      $(sel).replaceChildren(...options.map((o) => el("option", { value: o, text: o })));
      if (options.includes(wanted)) $(sel).value = wanted;
      else if (options.includes(current)) $(sel).value = current;
    };
    const sortMetric = data.sort_field && data.sort_field.startsWith("metrics.") ? data.sort_field.slice(8) : null;
    keep("#sweep-metric", data.metrics, state.get("metric") || sortMetric);
    keep("#sweep-param", data.params, state.get("param"));
    drawTable(); drawScatter(); drawPar();
    if (data.live) setTimeout(load, 3000);
  }

  function drawTable() {
    const sort = data.sort_field ? (data.sort && data.sort.startsWith("-") ? "-" : "") + data.sort_field : null;
    const cols = ["#", "run", "status", ...data.params.map((p) => "params." + p), ...data.metrics.map((m) => "metrics." + m)];
    const head = el("tr", {}, ...cols.map((c) => {
      const mark = sort === c ? " ▲" : sort === "-" + c ? " ▼" : "";
      const sortable = c.includes(".");
      return el("th", { "data-col": c, onclick: sortable ? () => setSort(c) : () => {} }, c + mark);
    }));
    const rows = data.rows.map((r) => el("tr", { "data-run": r.run || "", "data-status": r.status },
      el("td", { class: "num", title: `config ${r.config}`, text: String(r.index + 1) }),
      el("td", {}, r.run ? el("a", { href: `/runs/${r.run}`, text: r.run }) : "–", r.missing ? " (deleted)" : ""),
      el("td", {}, statusBadge(r.status)),
      ...data.params.map((p) => el("td", { class: typeof num(r.params[p]) === "number" ? "num" : "", text: fmt(r.params[p]) })),
      ...data.metrics.map((m) => el("td", { class: "num", text: fmt(r.metrics[m]) }))));
    if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: String(cols.length), class: "muted", text: "no configs" })));
    $("#sweep-table thead").replaceChildren(head);
    $("#sweep-table tbody").replaceChildren(...rows);
  }

  function setSort(c) {
    const sort = state.get("sort");
    state.set("sort", sort === "-" + c ? c : "-" + c);
    if (c.startsWith("metrics.")) state.set("metric", c.slice(8));
    save(); load();
  }

  function drawScatter() {
    const metric = $("#sweep-metric").value;
    const param = $("#sweep-param").value;
    const done = data.rows.filter((r) => r.run && !r.missing);
    if (!metric || !param) { $("#sweep-scatter").textContent = "No parameter and metric to plot yet."; return; }
    const numeric = done.every((r) => r.params[param] === null || typeof num(r.params[param]) === "number");
    const trace = { type: "scatter", mode: "markers", x: done.map((r) => (numeric ? finite(r.params[param]) : fmt(r.params[param]))),
      y: done.map((r) => finite(r.metrics[metric])), text: done.map((r) => r.run), customdata: done.map((r) => r.run),
      marker: { size: 10, color: PALETTE[0] }, hovertemplate: `${param}=%{x}<br>${metric}=%{y}<br>run %{text}<extra></extra>` };
    const layout = { margin: { l: 60, r: 20, t: 20, b: 50 }, xaxis: { title: { text: param }, type: numeric ? ($("#logx").checked ? "log" : "linear") : "category" },
      yaxis: { title: { text: metric }, type: $("#logy").checked ? "log" : "linear" }, hovermode: "closest" };
    plot("sweep-scatter", [trace], layout, plotConfig).then((node) => {
      node.removeAllListeners && node.removeAllListeners("plotly_click");
      node.on("plotly_click", (ev) => { if (ev.points.length) window.location.href = `/runs/${ev.points[0].customdata}`; });
    });
  }

  function drawPar() {
    const metric = $("#sweep-metric").value;
    const done = data.rows.filter((r) => r.run && !r.missing);
    const dims = data.params.map((p) => axis(p, done.map((r) => r.params[p])));
    const colors = metric ? done.map((r) => r.metrics[metric]) : null;
    if (metric) dims.push(axis(metric, colors));
    if (!dims.length || !done.length) { $("#parcoords").textContent = "Nothing to draw yet."; return; }
    drawParallel("parcoords", dims, colors, done.map((r) => r.run));
  }

  for (const sel of ["#sweep-metric", "#sweep-param"]) {
    $(sel).addEventListener("change", () => {
      state.set(sel === "#sweep-metric" ? "metric" : "param", $(sel).value);
      save(); drawScatter(); drawPar();
    });
  }
  $("#logx").addEventListener("change", drawScatter);
  $("#logy").addEventListener("change", drawScatter);
  $("#compare-all").addEventListener("click", () => {
    const ids = data.rows.filter((r) => r.run && !r.missing).map((r) => r.run).slice(0, 500);
    window.location.href = "/compare?ids=" + ids.join(",") + ($("#sweep-metric").value ? "&metric=" + encodeURIComponent($("#sweep-metric").value) : "");
  });
  load();
}

function studyPage() {
  const name = document.body.dataset.study;
  let data = null;

  async function load() {
    try {
      data = await api(`/api/studies/${encodeURIComponent(name)}`);
    } catch (err) {
      $("#study-error").textContent = err.message;
      $("#study-error").hidden = false;
      return;
    }
    $("#study-error").hidden = true;
    const objective = data.objectives.map((o, i) => `${o} (${data.directions[i]})`).join(", ");
    const space = data.space && typeof data.space === "object"
      ? Object.entries(data.space).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join("  ") : data.space;
    $("#study-summary").replaceChildren(metaList([
      ["experiment", data.experiment], ["objective", objective], ["search", space], ["sampler", data.sampler],
      ["pruner", data.pruner], ["trials", countsText(data.counts)], ["storage", data.storage],
      ["created", fmt(data.created, "created")],
      ["find", el("a", { href: whereLink("study", data.name), text: `study == '${data.name}'` })],
    ]));
    drawBest(); drawHistory(); drawImportances(); drawPar(); drawTrials();
    if (data.live) setTimeout(load, 3000);
  }

  function drawBest() {
    if (!data.best.length) { $("#best").replaceChildren(el("p", { class: "muted", text: "No complete trial yet." })); return; }
    const multi = data.directions.length > 1;
    const items = data.best.slice(0, 10).map((b) => el("div", { class: "best" },
      el("div", {}, el("strong", { text: `trial ${b.number}` }), `  ${multi ? "values" : "value"} ${b.values.map((v) => fmt(v)).join(", ")}`),
      metaList([...Object.entries(b.params).map(([k, v]) => [k, fmt(v)]), ["runs", runLinks(b.runs)]])));
    if (multi) items.unshift(el("p", { class: "muted", text: `Pareto front of ${data.best.length} trial(s)` }));
    $("#best").replaceChildren(...items);
  }

  function drawHistory() {
    const h = data.history;
    if (!h.trial.length) { $("#history").textContent = "No complete trial yet."; return; }
    const label = data.objectives[0] || "value";
    const traces = [
      { type: "scatter", mode: "markers", name: label, x: h.trial, y: finites(h.value), marker: { size: 8, color: PALETTE[0] } },
      { type: "scatter", mode: "lines", name: "best so far", x: h.trial, y: finites(h.best), line: { shape: "hv", color: PALETTE[3] } },
    ];
    plot("history", traces, { margin: { l: 60, r: 20, t: 20, b: 50 }, xaxis: { title: { text: "trial" } },
      yaxis: { title: { text: label } }, legend: { orientation: "h" }, hovermode: "closest" }, plotConfig);
  }

  function drawImportances() {
    const imp = data.importances;
    const note = $("#importances-note");
    note.hidden = !imp.message;
    note.textContent = imp.message || "Optuna's parameter importances (optuna.importance.get_param_importances).";
    const entries = Object.entries(imp.values).sort((a, b) => a[1] - b[1]);
    if (!entries.length) { unplot("importances"); $("#importances").textContent = imp.message || ""; return; }
    $("#importances").textContent = "";
    plot("importances", [{ type: "bar", orientation: "h", x: entries.map((e) => e[1]), y: entries.map((e) => e[0]),
      marker: { color: PALETTE[0] }, hovertemplate: "%{y}: %{x:.3f}<extra></extra>" }],
    { margin: { l: 120, r: 20, t: 20, b: 50 }, xaxis: { title: { text: "importance" } } }, plotConfig);
  }

  function drawPar() {
    const done = data.trials.filter((t) => t.state === "complete" && t.values);
    if (!done.length || !data.params.length) { $("#parcoords").textContent = "No complete trial yet."; return; }
    const dims = data.params.map((p) => axis(p, done.map((t) => (p in t.params ? t.params[p] : null)), data.distributions[p]));
    const values = done.map((t) => t.values[0]);
    dims.push(axis(data.objectives[0] || "value", values));
    drawParallel("parcoords", dims, values, done.map((t) => `trial ${t.number}`));
  }

  function drawTrials() {
    const multi = data.directions.length > 1;
    const best = new Set(data.best.map((b) => b.number));
    const valueCols = multi ? data.objectives.map((o, i) => ({ label: o, key: (t) => (t.values ? t.values[i] : null) }))
      : [{ label: data.objectives[0] || "value", key: (t) => (t.values ? t.values[0] : null) }];
    const head = [{ label: "trial", key: (t) => t.number }, { label: "state", key: (t) => t.state }, ...valueCols,
      ...data.params.map((p) => ({ label: p, key: (t) => (p in t.params ? t.params[p] : null) })),
      { label: "runs", key: (t) => t.runs.join(" ") }, { label: "duration", key: (t) => t.duration }, { label: "error", key: (t) => t.error }];
    const rows = data.trials.map((t) => ({ data: t, node: el("tr", { "data-trial": String(t.number), class: best.has(t.number) ? "best" : "" },
      el("td", { class: "num", text: String(t.number) }), el("td", {}, statusBadge(t.state)),
      ...valueCols.map((c) => el("td", { class: "num", text: fmt(c.key(t)) })),
      ...data.params.map((p) => el("td", { class: typeof num(t.params[p]) === "number" ? "num" : "", text: fmt(t.params[p]) })),
      el("td", {}, ...runLinks(t.runs)), el("td", { class: "num", text: fmt(t.duration, "duration") }),
      el("td", { class: "muted", text: t.error || "" })) }));
    sortable($("#trials"), head, rows);
  }
  load();
}

// Chart pages fetch plotly.js at once, while their first API request runs (preloadPlotly); the pages
// without charts (the runs, sweeps and studies lists) load it once idle, after their own content, so the
// next page with a chart (a run, a comparison) finds it compiled.
if (["run", "compare", "sweep", "study"].includes(document.body.dataset.page)) preloadPlotly();
else window.addEventListener("load", () => (window.requestIdleCallback || ((f) => setTimeout(f, 500)))(loadPlotly, { timeout: 3000 }));

const pages = { runs: runsPage, run: runPage, compare: comparePage, sweep: sweepPage, study: studyPage,
  sweeps: () => listPage("sweeps"), studies: () => listPage("studies") };
const start = pages[document.body.dataset.page];
if (start) start();
