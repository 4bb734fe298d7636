/**
 * Misuse detection over the simulated world (issue 20): the consumers reported their requests on
 * their heartbeats through the real use case; the exchange side is the world's own record of every
 * request (`World.exchangeSeen`), never the code under test's. At quiescence the real report runs
 * over both, and its whole output is scanned: no finding may carry a key value (I7), and every
 * piece of evidence must be a number.
 */

import { misuseReport } from "../../../src/core/misuse/report";
import { InMemoryMisuseAcks } from "../../memory";
import type { Violation, World } from "../world";

/** A subject is an IP, a country code or an endpoint class: nothing else may ride on it. */
const SUBJECT = /^([0-9a-fA-F:.]{2,45}|[A-Z]{2}|[a-z-]{3,16})$/;

export async function checkMisuseReport(
  world: World,
  scan: (where: string, text: string) => void,
): Promise<{ violations: Violation[]; findings: number }> {
  // One hour past the world's clock, so its last hour has ended and is judged too.
  const clock = { now: () => new Date(world.raw.clock.now().getTime() + 3_600_000) };
  const report = await misuseReport(
    { since: new Date(0) },
    {
      store: world.raw.store,
      usage: world.raw.usage,
      acks: new InMemoryMisuseAcks(),
      clock,
      exchangeActivity: async (account) =>
        [...world.exchangeSeen.values()].filter((r) => r.account === account),
    },
  );
  scan("misuse report", JSON.stringify(report));
  const violations: Violation[] = [];
  for (const f of [...report.findings, ...report.acknowledged]) {
    const bad = Object.entries(f.evidence).filter(([, n]) => typeof n !== "number" || !Number.isFinite(n));
    if (bad.length > 0 || (f.subject !== undefined && !SUBJECT.test(f.subject))) {
      violations.push({
        invariant: "I7",
        signature: "misuse finding evidence not numbers",
        message: `${f.kind} on ${f.secretId} ${f.keyId}: evidence ${bad.map(([k]) => k).join(",") || "-"} or its subject is not a number or a known shape (value not shown)`,
      });
    }
  }
  return { violations, findings: report.findings.length };
}
