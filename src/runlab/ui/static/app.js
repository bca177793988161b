// runlab UI: the runs table, the run page and the compare page. Talks only to /api on this host.
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

async function api(path, params) {
  const url = new URL(path, window.location.origin);
  if (params) {
    for (const [k, v] of Object.entries(params)) {
      if (Array.isArray(v)) v.forEach((x) => url.searchParams.append(k, x));
      else if (v !== null && v !== undefined && v !== "") url.searchParams.set(k, v);
    }
  }
  const resp = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await resp.json().catch(() => ({ detail: resp.statusText }));
  if (!resp.ok) {
    const err = new Error(body.detail || resp.statusText);
    err.status = resp.status;
    throw err;
  }
  return body;
}

function fmt(value, column) {
  if (value === null || value === undefined) return "–";
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
  const columns = () => (state.get("columns") ? state.get("columns").split(",") : []);

  async function load() {
    clearTimeout(timer);
    let page;
    try {
      page = await api("/api/runs", {
        where: state.get("where"), sort: state.get("sort"), offset: state.get("offset") || 0,
        limit: state.get("limit") || 50, columns: columns().join(","), archived: state.get("archived") || "no",
      });
    } catch (err) {
      $("#where-error").textContent = err.message;
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
    for (const c of page.columns) {
      const mark = sort === c ? " ▲" : sort === "-" + c ? " ▼" : "";
      const th = el("th", { "data-col": c, onclick: () => setSort(c) }, c + mark);
      th.append(el("span", { class: "rm", title: "remove column", text: "×",
        onclick: (ev) => { ev.stopPropagation(); removeColumn(c); } }));
      head.append(th);
    }
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
        else tr.append(el("td", { class: typeof v === "number" ? "num" : "" }, fmt(v, c)));
      });
      return tr;
    });
    if (!rows.length) {
      const filtered = state.get("where");
      const text = filtered ? "No runs match this filter." : `No runs in ${document.querySelector(".root").textContent} yet.`;
      rows.push(el("tr", {}, el("td", { colspan: String(page.columns.length + 2), class: "muted", text })));
    }
    $("#runs tbody").replaceChildren(...rows);
    const first = page.total ? page.offset + 1 : 0;
    const last = page.offset + page.runs.length;
    $("#count").textContent = `${page.total} run${page.total === 1 ? "" : "s"}`;
    $("#page-info").textContent = `${first}–${last}`;
    $("#prev").disabled = page.offset <= 0;
    $("#next").disabled = last >= page.total;
  }

  function setSort(c) {
    const sort = state.get("sort") || "-created";
    state.set("sort", sort === "-" + c ? c : "-" + c);
    state.delete("offset");
    save(); load();
  }
  function removeColumn(c) {
    state.set("columns", lastColumns.filter((x) => x !== c).join(","));
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
    state.set("columns", cols.join(","));
    $("#col-input").value = "";
    save(); load();
  });
  $("#col-reset").addEventListener("click", () => { state.delete("columns"); save(); load(); });
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

// -- run page -------------------------------------------------------------------------
function runPage() {
  const runId = document.body.dataset.run;
  const chosen = new Set();
  let details = null;
  let zoom = null;
  let series = {};
  let logOffset = -1;

  async function loadDetails() {
    details = await api(`/api/runs/${runId}`);
    const r = details.run;
    $("#run-title").replaceChildren(r.name || r.id, " ", statusBadge(r.status));
    const meta = el("dl", { class: "meta" });
    const add = (k, v) => { meta.append(el("dt", { text: k }), el("dd", { text: v })); };
    add("id", r.id); add("namespace", r.namespace); add("experiment", r.experiment || "–");
    add("created", fmt(r.created, "created")); add("started", fmt(r.started, "started"));
    add("ended", fmt(r.ended, "ended")); add("duration", fmt(r.duration, "duration"));
    add("tags", fmt(r.tags)); add("folder", r.path);
    if (r.sweep) add("sweep", r.sweep);
    if (r.study) add("study", r.study);
    if (r.parent) add("parent", r.parent);
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
    Plotly.react("chart", traces, layout, plotConfig);
    const info = Object.entries(series).filter(([n]) => chosen.has(n))
      .map(([n, s]) => `${n}: ${s.steps.length}${s.downsampled ? ` of ${s.count}` : ""} points`);
    $("#points-info").textContent = info.join(" · ");
  }

  async function loadMetrics() {
    const names = [...chosen];
    if (!names.length) { series = {}; draw(); return; }
    const body = await api(`/api/runs/${runId}/metrics`, {
      name: names, points: 2000, start: zoom ? Math.floor(zoom[0]) : null, end: zoom ? Math.ceil(zoom[1]) : null,
    });
    series = body.metrics;
    draw();
    return body;
  }

  async function loadSystem() {
    if (!details.system_metrics.length) return;
    const body = await api(`/api/runs/${runId}/metrics`, { name: details.system_metrics.slice(0, 12), points: 1000 });
    const traces = Object.entries(body.metrics).map(([name, s]) =>
      ({ x: s.steps, y: s.values, name, mode: s.steps.length < 30 ? "lines+markers" : "lines", type: "scatter" }));
    Plotly.react("sys-chart", traces, chartLayout(false, { uirevision: "keep" }), plotConfig);
  }

  async function loadLog() {
    const body = await api(`/api/runs/${runId}/log`, { offset: logOffset });
    const log = $("#log");
    const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 5;
    if (logOffset < 0 && body.skipped) log.textContent = `[… ${body.skipped} earlier bytes not shown]\n`;
    log.append(body.text);
    logOffset = body.offset;
    if (atEnd) log.scrollTop = log.scrollHeight;
    $("#log-state").textContent = body.live ? "following" : "";
    if (!log.textContent) log.textContent = "(empty)";
    return body;
  }

  async function follow() {  // while the run runs: charts grow, the log follows, new metrics appear
    await loadDetails();
    const body = await loadMetrics();
    await loadSystem();
    const log = await loadLog();
    if ((body && body.live) || log.live || details.live) setTimeout(follow, 1500);
    else await loadDetails();
  }

  $("#metric-filter").addEventListener("input", renderMetricChoice);
  $("#logy").addEventListener("change", draw);
  $("#smooth").addEventListener("input", draw);
  loadDetails().then(async () => {
    await loadMetrics();
    document.getElementById("chart").on("plotly_relayout", (ev) => {
      if (ev["xaxis.range[0]"] !== undefined) zoom = [ev["xaxis.range[0]"], ev["xaxis.range[1]"]];
      else if (Array.isArray(ev["xaxis.range"])) zoom = ev["xaxis.range"].slice();
      else if (ev["xaxis.autorange"]) zoom = null;
      else return;
      loadMetrics();  // the zoomed window again, in full detail
    });
    await loadSystem();
    await loadLog();
    if (details.live) setTimeout(follow, 1500);
  });
}

// -- compare page ---------------------------------------------------------------------
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
    $("#metric").replaceChildren(...data.metrics.map((m) => el("option", { value: m, text: m })));
    $("#metric").value = data.metric || "";
    const groupable = data.params.filter((p) => p.differs).map((p) => "params." + p.key);
    $("#group-by").replaceChildren(el("option", { value: "", text: "none" }),
      ...groupable.map((g) => el("option", { value: g, text: g })));
    $("#group-by").value = data.group_by || "";
    drawCurves(); drawDiff(); drawParcoords();
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
      data.curves.forEach((c, i) => traces.push({ x: c.steps, y: c.values, name: c.name, mode: "lines", type: "scatter",
        line: { color: PALETTE[i % PALETTE.length] } }));
    }
    const many = data.curves.length > 20 && !data.groups.length;  // 100 legend entries cost more than the curves
    Plotly.react("curves", traces, chartLayout($("#logy").checked,
      { uirevision: "keep", showlegend: !many, hovermode: many ? "closest" : "x unified" }), plotConfig);
  }

  function drawDiff() {
    const only = $("#only-diff").checked;
    const head = el("tr", {}, el("th", { text: "" }),
      ...data.runs.map((r) => el("th", {}, el("a", { href: `/runs/${r.id}`, text: r.name || r.id }), " ", statusBadge(r.status))));
    const rows = data.params.filter((p) => !only || p.differs).map((p) =>
      el("tr", { class: p.differs ? "differs" : "same" }, el("td", { text: p.key }),
        ...p.values.map((v) => el("td", { class: typeof v === "number" ? "num" : "", text: fmt(v) }))));
    const metricRows = Object.entries(data.final).slice(0, 50).map(([m, vals]) =>
      el("tr", { class: "differs" }, el("td", { text: "metrics." + m }),
        ...vals.map((v) => el("td", { class: "num", text: fmt(v) }))));
    $("#param-diff").replaceChildren(head, ...rows, ...metricRows);
  }

  function drawParcoords() {
    const dims = [];
    for (const p of data.params.filter((q) => q.differs)) {
      const vals = p.values;
      if (vals.every((v) => typeof v === "number")) dims.push({ label: p.key, values: vals });
      else {
        const cats = [...new Set(vals.map((v) => fmt(v)))];
        dims.push({ label: p.key, values: vals.map((v) => cats.indexOf(fmt(v))), tickvals: cats.map((_, i) => i), ticktext: cats });
      }
    }
    const metricVals = data.metric ? data.final[data.metric] : null;
    if (metricVals) dims.push({ label: data.metric, values: metricVals.map((v) => (v === null ? NaN : v)) });
    if (!dims.length) { $("#parcoords").textContent = "No parameters differ."; return; }
    const line = metricVals ? { color: metricVals.map((v) => (v === null ? 0 : v)), colorscale: "Viridis", showscale: true } : {};
    Plotly.react("parcoords", [{ type: "parcoords", dimensions: dims, line }], { margin: { l: 60, r: 60, t: 40, b: 20 } }, plotConfig)
      .then((div) => {
        if (div.querySelector(".no-webgl")) {  // parcoords needs WebGL: draw the same axes in SVG instead
          Plotly.purge(div);
          drawParallelSVG(dims);
        }
      });
  }

  function drawParallelSVG(dims) {  // without WebGL: one SVG line per run over axes scaled to 0..1
    const labels = dims.map((d) => d.label);
    const scaled = dims.map((d) => {
      const finite = d.values.filter((v) => Number.isFinite(v));
      const lo = Math.min(...finite);
      const hi = Math.max(...finite);
      return d.values.map((v) => (Number.isFinite(v) ? (hi > lo ? (v - lo) / (hi - lo) : 0.5) : null));
    });
    const traces = data.runs.map((r, i) => ({
      x: labels, y: scaled.map((col) => col[i]), mode: "lines+markers", name: r.name || r.id,
      line: { color: PALETTE[i % PALETTE.length] },
      text: dims.map((d) => (d.ticktext ? d.ticktext[d.values[i]] : fmt(d.values[i]))), hovertemplate: "%{x}: %{text}",
    }));
    const layout = { margin: { l: 40, r: 20, t: 20, b: 40 }, yaxis: { showticklabels: false, range: [-0.05, 1.05] },
      xaxis: { type: "category" }, showlegend: data.runs.length <= 20 };
    Plotly.react("parcoords", traces, layout, plotConfig);
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

const pages = { runs: runsPage, run: runPage, compare: comparePage };
const start = pages[document.body.dataset.page];
if (start) start();
