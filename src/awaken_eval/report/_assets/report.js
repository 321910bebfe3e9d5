/* awaken-eval report: draws the run document embedded in this page. No network. */
(function () {
  "use strict";

  var PAGE_SIZE = 50;
  var DIFF_LABELS = {
    regression: "regression", fixed: "fixed", drift: "drift", still_failing: "still failing",
    newly_added: "added", missing_from_new: "missing", unchanged: "unchanged",
    improved: "improved", flaky: "flaky"
  };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        if (key === "text") { node.textContent = attrs[key]; }
        else if (key === "className") { node.className = attrs[key]; }
        else { node.setAttribute(key, attrs[key]); }
      });
    }
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  function fmtInt(value) { return value === null || value === undefined ? "–" : Number(value).toLocaleString("en-US"); }
  function fmtCost(value) { return value === null || value === undefined ? "–" : "$" + value.toFixed(value < 1 ? 4 : 2); }
  function fmtScore(value) { return value === null || value === undefined ? "–" : value.toFixed(3); }
  function fmtPct(value) { return (100 * value).toFixed(1) + "%"; }
  function fmtSecs(secs) {
    if (secs < 60) { return secs + " s"; }
    var m = Math.floor(secs / 60), s = secs % 60;
    return m < 60 ? m + " min " + s + " s" : Math.floor(m / 60) + " h " + (m % 60) + " min";
  }
  // One explanation per failure: its summary, then its evidence lines.
  function explainList(explanations) {
    return el("ul", { className: "explain" }, explanations.map(function (lines) {
      var item = el("li", null, [el("span", { className: "summary", text: lines[0] })]);
      if (lines.length > 1) {
        item.appendChild(el("ul", { className: "evidence" }, lines.slice(1).map(function (line) { return el("li", { text: line }); })));
      }
      return item;
    }));
  }
  function badge(kind) { return el("span", { className: "badge " + kind, text: DIFF_LABELS[kind] || kind }); }

  var data = JSON.parse(document.getElementById("report-data").textContent);
  var COL = {};
  data.columns.forEach(function (name, index) { COL[name] = index; });
  var items = data.items;

  // -- header ------------------------------------------------------------------------
  function renderHeader() {
    var h = data.header;
    document.getElementById("title").textContent = "Run " + h.run_id;
    document.getElementById("subtitle").textContent =
      "dataset " + h.dataset_id + " · revision " + h.dataset_revision + " · " + h.mode + " · started " + h.started_at;
    var rate = h.items ? fmtPct(h.passed / h.items) : "–";
    var fields = [
      ["dataset", h.dataset_id + " @ " + h.dataset_revision],
      ["mode", h.mode],
      ["models", h.models.join(", ") || "–"],
      ["samples", String(h.samples)],
      ["fixtures", fmtInt(h.fixtures)],
      ["items", fmtInt(h.items)],
      ["passed", fmtInt(h.passed) + " (" + rate + ")"],
      ["failed", fmtInt(h.failed)],
      ["errored", fmtInt(h.errored)],
      ["tokens", fmtInt(h.total_tokens) + " (in " + fmtInt(h.input_tokens) + ", out " + fmtInt(h.output_tokens) + ")"],
      ["cost", fmtCost(h.cost_usd)],
      ["duration", fmtSecs(h.duration_secs)]
    ];
    var box = document.getElementById("summary");
    fields.forEach(function (pair) {
      box.appendChild(el("div", { "data-field": pair[0] }, [el("dt", { text: pair[0] }), el("dd", { text: pair[1] })]));
    });
  }

  // -- item details -------------------------------------------------------------------
  function pre(value) {
    return el("pre", { text: typeof value === "string" ? value : JSON.stringify(value, null, 2) });
  }

  function transcriptView(events) {
    var box = el("div", { className: "transcript" });
    events.forEach(function (event) {
      if (event.type === "inference") {
        var turn = el("div", { className: "turn" }, [el("div", { className: "muted", text: "model call · " + (event.model || "") + " · " + event.tokens + " tokens" })]);
        if (event.messages !== undefined) { turn.appendChild(el("div", { text: "messages" })); turn.appendChild(pre(event.messages)); }
        if (event.content !== undefined) { turn.appendChild(el("div", { text: "response" })); turn.appendChild(pre(event.content)); }
        if (event.tool_calls !== undefined) { turn.appendChild(el("div", { text: "tool calls" })); turn.appendChild(pre(event.tool_calls)); }
        box.appendChild(turn);
      } else {
        var call = el("div", { className: "turn tool" }, [el("div", { className: "muted", text: "tool " + event.name + (event.error ? " · error " + event.error : "") })]);
        if (event.arguments !== undefined) { call.appendChild(el("div", { text: "arguments" })); call.appendChild(pre(event.arguments)); }
        if (event.result !== undefined) { call.appendChild(el("div", { text: "result" })); call.appendChild(pre(event.result)); }
        box.appendChild(call);
      }
    });
    return box;
  }

  function scoreTable(rows, first) {
    var table = el("table", null, [el("thead", null, [el("tr", null, [el("th", { text: first }), el("th", { className: "num", text: "score" }), el("th", { text: "reasoning" })])])]);
    var body = el("tbody");
    rows.forEach(function (row) {
      body.appendChild(el("tr", null, [el("td", { text: String(row[0]) }), el("td", { className: "num", text: fmtScore(row[1]) }), el("td", { text: row[2] || "" })]));
    });
    table.appendChild(body);
    return table;
  }

  function detailsView(row) {
    var d = row[COL.details];
    var box = el("div", { className: "details" });
    if (d.explain) {
      box.appendChild(el("h4", { text: "Why it failed" }));
      box.appendChild(explainList(d.explain));
    }
    if (d.error_type) { box.appendChild(el("h4", { text: "Error type" })); box.appendChild(el("code", { text: d.error_type })); }
    if (d.answer !== undefined) { box.appendChild(el("h4", { text: "Final answer" })); box.appendChild(pre(d.answer)); }
    if (d.judge) {
      box.appendChild(el("h4", { text: "Judge" }));
      box.appendChild(el("div", { text: "score " + fmtScore(d.judge.score) + (d.judge.reasoning ? " — " + d.judge.reasoning : "") }));
    }
    if (d.verdicts) { box.appendChild(el("h4", { text: "Criterion verdicts" })); box.appendChild(scoreTable(d.verdicts, "criterion")); }
    if (d.attempts) { box.appendChild(el("h4", { text: "Judge attempts" })); box.appendChild(scoreTable(d.attempts, "revision")); }
    if (d.trace) {
      box.appendChild(el("h4", { text: "Transcript" }));
      var events = data.transcripts[d.trace];
      if (events) { box.appendChild(transcriptView(events)); }
      else { box.appendChild(el("div", { className: "muted", text: "trace " + d.trace + " (content not captured in this report)" })); }
    }
    if (box.childNodes.length === 0) { box.appendChild(el("div", { className: "muted", text: "passed; nothing was captured" })); }
    return box;
  }

  // -- item table -----------------------------------------------------------------------
  var state = { status: "", model: "", text: "", sortCol: null, sortDir: 1, page: 0, open: {} };
  var view = [];
  var COLUMNS = [
    ["fixture", "fixture", false], ["model", "model", false], ["sample", "sample", true],
    ["status", "status", false], ["tokens", "tokens", true], ["duration_ms", "duration (ms)", true],
    ["cost_usd", "cost", true], ["failures", "failures", false]
  ];

  function compare(a, b) {
    if (a === b) { return 0; }
    if (a === null || a === undefined) { return 1; }
    if (b === null || b === undefined) { return -1; }
    return a < b ? -1 : 1;
  }

  function recompute() {
    var text = state.text.toLowerCase();
    view = [];
    for (var i = 0; i < items.length; i++) {
      var row = items[i];
      if (state.status && row[COL.status] !== state.status) { continue; }
      if (state.model && row[COL.model] !== state.model) { continue; }
      if (text && row[COL.fixture].toLowerCase().indexOf(text) < 0 && row[COL.failures].indexOf(text) < 0) { continue; }
      view.push(i);
    }
    if (state.sortCol !== null) {
      var col = COL[state.sortCol], dir = state.sortDir;
      view.sort(function (a, b) { return dir * compare(items[a][col], items[b][col]) || a - b; });
    }
    var pages = Math.max(1, Math.ceil(view.length / PAGE_SIZE));
    if (state.page >= pages) { state.page = pages - 1; }
  }

  function renderRows() {
    var body = document.getElementById("items-body");
    body.textContent = "";
    var start = state.page * PAGE_SIZE;
    var end = Math.min(view.length, start + PAGE_SIZE);
    for (var v = start; v < end; v++) {
      var index = view[v];
      var row = items[index];
      var tr = el("tr", { className: "item" + (state.open[index] ? " open" : ""), "data-index": String(index) }, [
        el("td", { text: row[COL.fixture] }),
        el("td", { text: row[COL.model] }),
        el("td", { className: "num", text: row[COL.sample] === null ? "" : String(row[COL.sample]) }),
        el("td", null, [badge(row[COL.status])]),
        el("td", { className: "num", text: fmtInt(row[COL.tokens]) }),
        el("td", { className: "num", text: fmtInt(row[COL.duration_ms]) }),
        el("td", { className: "num", text: fmtCost(row[COL.cost_usd]) }),
        el("td", { className: "mono", text: row[COL.failures] })
      ]);
      body.appendChild(tr);
      if (state.open[index]) {
        body.appendChild(el("tr", { className: "details-row" }, [el("td", { className: "details", colspan: String(COLUMNS.length) }, [detailsView(row)])]));
      }
    }
    if (view.length === 0) {
      body.appendChild(el("tr", null, [el("td", { className: "empty", colspan: String(COLUMNS.length), text: "no item matches the filters" })]));
    }
    var pages = Math.max(1, Math.ceil(view.length / PAGE_SIZE));
    document.getElementById("page-info").textContent =
      (view.length ? (start + 1) + "–" + end : "0") + " of " + fmtInt(view.length) + " items (" + fmtInt(items.length) + " in the run) · page " + (state.page + 1) + " of " + pages;
    document.getElementById("page-prev").disabled = state.page === 0;
    document.getElementById("page-next").disabled = state.page >= pages - 1;
    document.querySelectorAll("#items th.sortable").forEach(function (th) {
      var active = th.getAttribute("data-col") === state.sortCol;
      th.setAttribute("aria-sort", active ? (state.sortDir > 0 ? "ascending" : "descending") : "none");
      th.querySelector(".arrow").textContent = active ? (state.sortDir > 0 ? " ▲" : " ▼") : "";
    });
  }

  function refresh() { recompute(); renderRows(); }

  function setupTable() {
    var models = data.header.models;
    var modelSelect = document.getElementById("filter-model");
    models.forEach(function (model) { modelSelect.appendChild(el("option", { value: model, text: model })); });
    var headRow = document.getElementById("items-head");
    COLUMNS.forEach(function (column) {
      var th = el("th", { className: "sortable" + (column[2] ? " num" : ""), "data-col": column[0], scope: "col" }, [column[1], el("span", { className: "arrow" })]);
      th.addEventListener("click", function () {
        if (state.sortCol === column[0]) { state.sortDir = -state.sortDir; } else { state.sortCol = column[0]; state.sortDir = 1; }
        state.page = 0; refresh();
      });
      headRow.appendChild(th);
    });
    document.getElementById("filter-status").addEventListener("change", function (e) { state.status = e.target.value; state.page = 0; refresh(); });
    modelSelect.addEventListener("change", function (e) { state.model = e.target.value; state.page = 0; refresh(); });
    document.getElementById("filter-text").addEventListener("input", function (e) { state.text = e.target.value; state.page = 0; refresh(); });
    document.getElementById("page-prev").addEventListener("click", function () { state.page -= 1; renderRows(); });
    document.getElementById("page-next").addEventListener("click", function () { state.page += 1; renderRows(); });
    document.getElementById("items-body").addEventListener("click", function (e) {
      var tr = e.target.closest("tr.item");
      if (!tr) { return; }
      var index = Number(tr.getAttribute("data-index"));
      if (state.open[index]) { delete state.open[index]; } else { state.open[index] = true; }
      renderRows();
    });
    refresh();
  }

  // -- diff ------------------------------------------------------------------------------
  var CHUNK = 100;

  // Rows are drawn CHUNK at a time, more on request: a diff of a huge run stays fast.
  function showInChunks(section, body, entries, id, makeRow) {
    var shown = 0;
    var more = el("button", { type: "button", id: id });
    function next() {
      var end = Math.min(entries.length, shown + CHUNK);
      for (; shown < end; shown++) { body.appendChild(makeRow(entries[shown])); }
      more.hidden = shown >= entries.length;
      more.textContent = "show " + Math.min(CHUNK, entries.length - shown) + " more (" + fmtInt(entries.length - shown) + " left)";
    }
    more.addEventListener("click", next);
    section.appendChild(more);
    next();
  }
  function renderDiff() {
    var diff = data.diff;
    var section = document.getElementById("diff");
    if (!diff) { section.hidden = true; return; }
    section.hidden = false;
    document.getElementById("diff-title").textContent = "Diff against baseline run " + diff.baseline_run_id;
    var counts = el("div", { className: "counts" });
    Object.keys(diff.counts).forEach(function (kind) {
      counts.appendChild(el("span", { "data-kind": kind }, [badge(kind), " " + diff.counts[kind]]));
    });
    counts.appendChild(el("strong", { text: diff.clean ? "clean" : "blocking" }));
    section.appendChild(counts);
    var moved = [["changed", diff.changed_fixtures], ["added", diff.added_fixtures], ["removed", diff.removed_fixtures]].filter(function (p) { return p[1].length; });
    if (moved.length) {
      section.appendChild(el("p", { className: "note", text: "Fixtures differ from the baseline: " + moved.map(function (p) { return p[0] + " " + p[1].join(", "); }).join("; ") }));
    }
    if (diff.entries.length === 0) {
      section.appendChild(el("p", { className: "muted", text: "Every item is unchanged." }));
    } else {
      var table = el("table", { id: "diff-table" }, [el("thead", null, [el("tr", null, ["change", "fixture", "model", "sample", "what", "why"].map(function (name) { return el("th", { text: name }); }))])]);
      var body = el("tbody");
      table.appendChild(body);
      section.appendChild(table);
      showInChunks(section, body, diff.entries, "diff-more", function (entry) {
        return el("tr", { "data-kind": entry[0] }, [
          el("td", null, [badge(entry[0])]), el("td", { className: "nowrap", text: entry[1] }), el("td", { className: "nowrap", text: entry[2] }),
          el("td", { className: "num", text: entry[3] === null ? "" : String(entry[3]) }), el("td", { text: entry[4] }),
          el("td", null, [explainList(entry[5])])
        ]);
      });
    }
    if (diff.sampled) {
      section.appendChild(el("h3", { text: "Sampled diff (one-sided Fisher exact test, alpha " + diff.sampled.alpha + ")" }));
      var sampled = el("table", { id: "sampled-table" }, [el("thead", null, [el("tr", null, ["change", "fixture", "model", "baseline", "new", "p-value"].map(function (name) { return el("th", { text: name }); }))])]);
      var sbody = el("tbody");
      var rate = function (r) { return r ? r[0] + "/" + r[1] + " [" + fmtPct(r[2]) + ", " + fmtPct(r[3]) + "]" : "–"; };
      var scounts = el("div", { className: "counts" });
      Object.keys(diff.sampled.counts).forEach(function (kind) {
        scounts.appendChild(el("span", { "data-kind": kind }, [badge(kind), " " + diff.sampled.counts[kind]]));
      });
      section.appendChild(scounts);
      sampled.appendChild(sbody);
      section.appendChild(sampled);
      showInChunks(section, sbody, diff.sampled.entries, "sampled-more", function (entry) {
        return el("tr", { "data-kind": entry[0] }, [
          el("td", null, [badge(entry[0])]), el("td", { className: "nowrap", text: entry[1] }), el("td", { className: "nowrap", text: entry[2] }),
          el("td", { text: rate(entry[3]) }), el("td", { text: rate(entry[4]) }),
          el("td", { className: "num", text: entry[5] === null ? "–" : entry[5].toPrecision(3) })
        ]);
      });
    }
  }

  // -- charts (Vega-Lite compiled here, run by Vega's CSP-safe interpreter) --------------
  function renderCharts() {
    var box = document.getElementById("charts");
    var pending = data.charts.map(function (chart) {
      var holder = el("div", { className: "chart", id: "chart-" + chart.id }, [el("h3", { text: chart.title })]);
      var target = el("div", { className: "chart-body" });
      holder.appendChild(target);
      box.appendChild(holder);
      var compiled = vegaLite.compile(chart.spec).spec;
      var runtime = vega.parse(compiled, null, { ast: true });
      var chartView = new vega.View(runtime, { expr: vega.expressionInterpreter, renderer: "svg", container: target, hover: true });
      return chartView.runAsync();
    });
    if (data.charts.length === 0) { box.appendChild(el("p", { className: "muted", text: "No items, no charts." })); }
    Promise.all(pending).then(function () { document.body.setAttribute("data-charts", "ready"); }, function (err) {
      document.body.setAttribute("data-charts", "failed");
      console.error("awaken-eval report: a chart failed to render:", err);
    });
  }

  renderHeader();
  renderDiff();
  setupTable();
  document.body.setAttribute("data-ready-ms", String(Math.round(performance.now())));
  document.body.setAttribute("data-ready", "1");
  // The chart libraries come after this script: draw the charts once they have run.
  if (document.readyState === "complete") { renderCharts(); }
  else { window.addEventListener("load", renderCharts); }
})();
