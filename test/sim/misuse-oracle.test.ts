/**
 * The simulation's misuse oracle (harness/sim/oracles/misuse.ts) can fail: over a populated world
 * it passes; with a key value planted where the detector would echo it (an exchange row's "IP",
 * which the real pulls will validate and the world does not), it names I7 — from the scanner and
 * from the evidence-shape check alike.
 */
import { describe, expect, it } from "vitest";
import { SecretScanner } from "../../harness/sim/invariants";
import { checkMisuseReport } from "../../harness/sim/oracles/misuse";
import { type Violation, World } from "../../harness/sim/world";

async function world(): Promise<{
  w: World;
  scanned: Violation[];
  scan: (where: string, text: string) => void;
}> {
  const w = new World(7);
  await w.populate();
  const scanner = new SecretScanner();
  for (const s of w.knownSecrets) scanner.add(s);
  const scanned: Violation[] = [];
  return { w, scanned, scan: (where, text) => scanned.push(...scanner.scan(where, text)) };
}

describe("misuse oracle", () => {
  it("passes on the world's own traffic, consumers reporting through the real heartbeat", async () => {
    const { w, scanned, scan } = await world();
    const secretId = w.secretIds[0] as string;
    const account = w.accountOf.get(secretId) as string;
    const keyId = (await w.raw.store.getVersions(secretId))?.current?.exchangeKeyId as string;
    for (let i = 0; i < 30; i++)
      w.sawRequest(secretId, account, keyId, w.raw.clock.now().getTime() - i * 3_600_000);

    const out = await checkMisuseReport(w, scan);

    expect([...out.violations, ...scanned]).toEqual([]);
  });

  it("names I7 when a finding would carry a key value", async () => {
    const { w, scanned, scan } = await world();
    const secretId = w.secretIds[0] as string;
    const account = w.accountOf.get(secretId) as string;
    const keyId = (await w.raw.store.getVersions(secretId))?.current?.exchangeKeyId as string;
    const leaked = w.knownSecrets[0] as string;
    const hour = Math.floor(w.raw.clock.now().getTime() / 3_600_000);
    for (let i = 48; i >= 1; i--) w.sawRequest(secretId, account, keyId, (hour - i) * 3_600_000);
    // After the bootstrap day, a row whose "IP" is a key value: the new-ip finding would name it.
    w.exchangeSeen.set("planted", {
      hour: hour - 1,
      account,
      secretId,
      keyId,
      endpointClass: "spot",
      count: 1,
      ip: leaked,
    });

    const out = await checkMisuseReport(w, scan);

    expect(scanned.map((v) => v.invariant)).toContain("I7");
    expect(out.violations.map((v) => v.signature)).toEqual(["misuse finding evidence not numbers"]);
    expect(JSON.stringify(out.violations)).not.toContain(leaked);
  });
});
