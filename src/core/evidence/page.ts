/**
 * The evidence page: one self-contained HTML file (inline style and script, no request to anywhere),
 * readable without its script. Every value from the evidence goes through `escapeHtml` — an actor,
 * a reason or an id holding `<script>` shows as text — and the embedded JSON through `embedJson`.
 */
import type {
  AuditedAction,
  EvidenceDocument,
  ReaderEvidence,
  RotationEvidence,
  SecretEvidence,
  TimelineEvent,
} from "./model";
import { PAGE_SCRIPT, PAGE_STYLE } from "./page-assets";

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text or an attribute value, safe between tags and inside double or single quotes. */
export function escapeHtml(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>` and `&` as `\\u` escapes, so no
 * value can close the block (`</script>`) or open a comment; JSON.parse reads them back unchanged.
 */
export function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

const e = escapeHtml;
const time = (at: string | null) =>
  at ? `<time datetime="${e(at)}">${e(at.replace("T", " ").replace(/\.\d{3}Z$/, "Z"))}</time>` : "—";
const table = (head: string[], rows: string[], empty: string) =>
  rows.length === 0
    ? `<p class="muted">${e(empty)}</p>`
    : `<table><thead><tr>${head.map((h) => `<th>${e(h)}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
const cells = (values: string[]) => `<tr>${values.map((v) => `<td>${v}</td>`).join("")}</tr>`;

/** The whole page for `doc`. */
export function renderEvidencePage(doc: EvidenceDocument): string {
  const { period, summary } = doc;
  const title = `keyshift evidence ${period.from} to ${period.to}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body data-script="pending">
<header>
<h1>${e(title)}</h1>
<p class="muted">Period ${e(period.from)} 00:00 UTC to ${e(period.to)} 24:00 UTC (both days included). Generated ${time(doc.generatedAt)} by <code>${e(doc.generatedBy)}</code> from the audit trail and keyshift's stores. Holds ids, key ids, fingerprints and actors; never a key.</p>
<p id="script-status" class="status">This page's script has not run: everything below is complete without it.</p>
</header>
${summaryBlock(doc)}
<div class="controls"><label>Filter timeline events <input id="filter" type="search" placeholder="actor, key id, action…"></label>
<label><input id="period-only" type="checkbox"> only events inside the period</label>
<span class="muted">Rotations shown: <strong id="rotation-count"></strong> (of ${e(summary.rotations)} in the data)</span></div>
${doc.secrets.map(secretBlock).join("\n")}
<script type="application/json" id="evidence-data">${embedJson(doc)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

function summaryBlock(doc: EvidenceDocument): string {
  const s = doc.summary;
  const broken = s.auditBroken.length
    ? `<span class="bad">BROKEN: ${s.auditBroken.map((id) => `<code>${e(id)}</code>`).join(", ")}</span>`
    : `<span class="ok">every trail verifies</span>`;
  const rows = [
    ["Secrets", e(s.secrets)],
    [
      "Rotations",
      `${e(s.rotations)} (${Object.entries(s.byStatus)
        .map(([k, v]) => `${e(v)} ${e(k)}`)
        .join(", ")})`,
    ],
    [
      "Reads",
      `${e(s.reads)} served, ${e(s.deniedReads)} denied; ${e(s.unregisteredReaders)} unregistered reader(s)`,
    ],
    ["Approvals", e(s.approvals)],
    [
      "Hygiene findings (now)",
      `${e(s.findings.high)} high, ${e(s.findings.medium)} medium, ${e(s.findings.low)} low`,
    ],
    ["Audit verification", broken],
  ];
  return `<section id="summary"><h2>Summary</h2><table><tbody>${rows
    .map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`)
    .join("")}</tbody></table></section>`;
}

function secretBlock(s: SecretEvidence): string {
  return `<section class="secret" data-secret-id="${e(s.secretId)}">
<h2>${e(s.secretId)}</h2>
<p class="muted">Exchange account <code>${e(s.exchangeAccount ?? "—")}</code>; enrolled ${time(s.enrolledAt)}</p>
${auditBlock(s)}
<h3>Rotations (${e(s.rotations.length)})</h3>
${s.rotations.length ? `<ol class="rotations">${s.rotations.map(rotationBlock).join("\n")}</ol>` : `<p class="muted">No rotation in the period.</p>`}
<h3>Who read it (${e(s.readers.length)})</h3>
${table(["principal", "as", "served", "denied", "first", "last", "sessions", "last read ever"], s.readers.map(readerRow), "No read recorded in the period.")}
<h3>Approvals (${e(s.approvals.length)})</h3>
${actionTable(s.approvals, "No approval recorded in the period.")}
<h3>Other audited actions (${e(s.actions.length)})</h3>
${actionTable(s.actions, "None in the period.")}
${hygieneBlock(s)}
</section>`;
}

function auditBlock(s: SecretEvidence): string {
  const a = s.audit;
  const head = a.ok
    ? `<span class="ok">verifies</span>: ${e(a.secret.entries)} entries up to its head${a.secret.pending ? ` (entry ${e(a.secret.pending)} verified from the head)` : ""}; ${e(a.instanceStreams)} instance stream(s), ${e(a.instanceEntries)} entries`
    : `<span class="bad">DOES NOT VERIFY</span>${a.secret.ok ? "" : `: seq ${e(a.secret.brokenAt?.seq)}: ${e(a.secret.brokenAt?.reason)}`}`;
  const broken = a.broken
    .map((b) => `<li><code>${e(b.stream)}</code> at seq ${e(b.seq)}: ${e(b.reason)}</li>`)
    .join("");
  return `<p class="audit" data-audit-ok="${a.ok}">Audit trail (<code>keyshift audit verify</code>): ${head}</p>${broken ? `<ul>${broken}</ul>` : ""}`;
}

function rotationBlock(r: RotationEvidence): string {
  const statusClass = r.status === "completed" ? "ok" : r.status === "in-progress" ? "warn" : "bad";
  const facts: Array<[string, string]> = [
    ["trigger", `${e(r.trigger ?? "—")}${r.emergency ? ' <span class="bad">EMERGENCY</span>' : ""}`],
    ["started", time(r.startedAt)],
    ["ended", `${time(r.endedAt)} <span class="duration muted"></span>`],
    ["outcome", e(r.outcome ?? "—")],
    ["previous key", `<code>${e(r.previousKeyId ?? "—")}</code>`],
    ["new key", `<code>${e(r.newKeyId ?? "—")}</code> <code>${e(r.newFingerprint ?? "")}</code>`],
  ];
  const consumers = r.consumers.map((c) =>
    cells([
      `<code>${e(c.consumerId)}</code>`,
      e(c.required === null ? "no longer registered" : c.required ? "required" : "optional"),
      c.confirmedAt ? time(c.confirmedAt) : '<span class="bad">not confirmed</span>',
      e(c.instances.map((i) => i.instanceId).join(", ")),
    ]),
  );
  const awaiting = r.awaiting.length
    ? `<p class="bad">Awaiting:</p><ul class="awaiting">${r.awaiting.map((a) => `<li>${e(a)}</li>`).join("")}</ul>`
    : "";
  return `<li class="rotation" data-rotation-id="${e(r.rotationId)}" data-status="${e(r.status)}" data-started-at="${e(r.startedAt)}" data-ended-at="${e(r.endedAt ?? "")}">
<h4>Rotation <code>${e(r.rotationId)}</code>: <span class="${statusClass}">${e(r.status)}</span></h4>
<dl class="facts">${facts.map(([k, v]) => `<dt>${e(k)}</dt><dd>${v}</dd>`).join("")}</dl>
${awaiting}
<table class="timeline"><thead><tr><th>time (UTC)</th><th>step</th><th>what</th><th>by</th><th>audit entry</th></tr></thead><tbody>
${r.events.map(eventRow).join("\n")}
</tbody></table>
<p><strong>Consumers on the new key</strong></p>
${table(["consumer", "registration", "confirmed", "instances"], consumers, "No consumer registered.")}
</li>`;
}

function eventRow(ev: TimelineEvent): string {
  return `<tr class="event kind-${e(ev.kind)}" data-kind="${e(ev.kind)}" data-in-period="${ev.inPeriod}"><td class="at">${time(ev.at)}</td><td class="kind">${e(ev.kind)}</td><td>${e(ev.summary)}</td><td><code>${e(ev.actor)}</code></td><td class="mono muted">${e(ev.source.stream)} #${e(ev.source.seq)}</td></tr>`;
}

function readerRow(r: ReaderEvidence): string {
  const as =
    r.reader === "unregistered"
      ? `<span class="bad">unregistered</span>`
      : e(r.consumerId ? `${r.reader} ${r.consumerId}` : r.reader);
  return cells([
    `<code>${e(r.principal)}</code>`,
    as,
    e(r.served),
    e(r.denied),
    time(r.firstAt),
    time(r.lastAt),
    e(r.callers.join(", ")),
    time(r.lastReadEver),
  ]);
}

function actionTable(rows: AuditedAction[], empty: string): string {
  return table(
    ["time (UTC)", "action", "what", "by", "audit entry"],
    rows.map((a) =>
      cells([
        time(a.at),
        `<code>${e(a.action)}</code>`,
        e(a.summary),
        `<code>${e(a.actor)}</code>`,
        `<span class="mono muted">${e(a.source.stream)} #${e(a.source.seq)}</span>`,
      ]),
    ),
    empty,
  );
}

function hygieneBlock(s: SecretEvidence): string {
  const h = s.hygiene;
  const findings = h.findings.map((f) =>
    cells([
      `<span class="${f.severity === "high" ? "bad" : f.severity === "medium" ? "warn" : "muted"}">${e(f.severity)}</span>`,
      `<code>${e(f.kind)}</code>`,
      e(f.message),
      `<code>${e(f.fix)}</code>`,
      e(f.status),
    ]),
  );
  const resolutions = h.resolutions.map((r) =>
    cells([
      time(r.at),
      `<code>${e(r.action)}</code>`,
      e(r.resolves.join(", ")),
      e(r.summary),
      `<code>${e(r.actor)}</code>`,
    ]),
  );
  return `<h3>Hygiene</h3>
<p class="muted">Findings as the hygiene audit judges them at ${time(h.asOf)} (it keeps no history), each with its fix; below, the audited actions of the period that resolve such findings.</p>
${table(["severity", "finding", "what", "fix", "status"], findings, "No open finding.")}
${table(["time (UTC)", "action", "resolves", "what", "by"], resolutions, "No resolving action in the period.")}`;
}
