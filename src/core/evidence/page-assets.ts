/**
 * The evidence page's inline style and script: the page is one file an auditor can open offline,
 * mail or archive, so nothing is fetched (no font, no stylesheet, no script from anywhere; the
 * page's Content-Security-Policy forbids it). The script only reads the page and the embedded
 * JSON and writes with `textContent`: it never turns data into markup.
 */

export const PAGE_STYLE = `
:root { color-scheme: light; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --line: #d0d7de; --muted: #57606a; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem 4rem; color: #1f2328; }
h1 { margin: 0.2rem 0; } h2 { border-bottom: 2px solid var(--line); padding-bottom: 0.2rem; margin-top: 2.5rem; word-break: break-all; }
h3 { margin: 1.4rem 0 0.4rem; } h4 { margin: 0 0 0.4rem; word-break: break-all; }
table { border-collapse: collapse; width: 100%; margin: 0.3rem 0 0.8rem; }
th, td { border: 1px solid var(--line); padding: 0.25rem 0.45rem; text-align: left; vertical-align: top; }
td { word-break: break-word; } td.kind, td.at { white-space: nowrap; } th { background: #f6f8fa; font-weight: 600; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.muted { color: var(--muted); } .ok { color: var(--ok); font-weight: 600; } .bad { color: var(--bad); font-weight: 600; }
.warn { color: var(--warn); font-weight: 600; }
.status { padding: 0.4rem 0.6rem; background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; }
ol.rotations { list-style: none; padding: 0; }
li.rotation { border: 1px solid var(--line); border-radius: 6px; padding: 0.6rem 0.8rem; margin: 0.6rem 0; }
li.rotation[data-status="stalled"], li.rotation[data-status="aborted"] { border-color: var(--bad); }
tr.event[data-in-period="false"] { color: var(--muted); }
tr.kind-revoked td.kind, tr.kind-completed td.kind, tr.kind-confirmed td.kind { color: var(--ok); }
tr.kind-failed td.kind, tr.kind-stalled td.kind, tr.kind-aborted td.kind, tr.kind-break-glass td.kind { color: var(--bad); }
tr.kind-approval td.kind { color: var(--warn); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.1rem 0.8rem; margin: 0.3rem 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; word-break: break-all; }
.controls { position: sticky; top: 0; background: #fff; padding: 0.4rem 0; border-bottom: 1px solid var(--line); }
.controls input[type="search"] { width: 22rem; }
@media print { .controls { display: none; } }
`;

export const PAGE_SCRIPT = `
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("evidence-data").textContent);
  var rotations = document.querySelectorAll("li.rotation");
  var events = document.querySelectorAll("tr.event");
  var expected = data.secrets.reduce(function (n, s) { return n + s.rotations.length; }, 0);
  function human(ms) {
    var s = Math.round(ms / 1000);
    if (s < 120) return s + " s";
    var m = Math.round(s / 60);
    return m < 120 ? m + " min" : Math.round(m / 60) + " h";
  }
  // Durations are worked out here, from the embedded data: the JSON holds only the times.
  rotations.forEach(function (li) {
    var cell = li.querySelector(".duration");
    var start = Date.parse(li.getAttribute("data-started-at") || "");
    var end = Date.parse(li.getAttribute("data-ended-at") || "");
    if (cell) cell.textContent = isNaN(end) ? "open for " + human(Date.parse(data.generatedAt) - start) : "took " + human(end - start);
  });
  document.querySelectorAll("time[datetime]").forEach(function (t) {
    var d = new Date(t.getAttribute("datetime"));
    if (!isNaN(d.getTime())) t.title = "your local time: " + d.toString();
  });
  var status = document.getElementById("script-status");
  var agree = expected === rotations.length;
  status.textContent = (agree ? "" : "WARNING: the page shows " + rotations.length + " rotation(s) but its data holds " + expected + ". ") +
    rotations.length + " rotation(s) on " + data.secrets.length + " secret(s), " + events.length + " timeline event(s); checked against the embedded data.";
  status.className = agree ? "status" : "status bad";
  document.getElementById("rotation-count").textContent = String(rotations.length);
  document.body.setAttribute("data-script", agree ? "ran" : "mismatch");
  var filter = document.getElementById("filter");
  var periodOnly = document.getElementById("period-only");
  function apply() {
    var q = filter.value.toLowerCase();
    events.forEach(function (tr) {
      var hide = (q && tr.textContent.toLowerCase().indexOf(q) < 0) || (periodOnly.checked && tr.getAttribute("data-in-period") === "false");
      tr.hidden = !!hide;
    });
  }
  filter.addEventListener("input", apply);
  periodOnly.addEventListener("change", apply);
})();
`;
