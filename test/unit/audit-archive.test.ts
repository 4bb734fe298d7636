import { beforeEach, describe, expect, it } from "vitest";
import { FakeClock, InMemoryAlerts, InMemoryAuditArchive } from "../../harness/memory";
import {
  type AuditStreamRecord,
  archiveAuditRecords,
  archiveKey,
  parseArchiveKey,
} from "../../src/core/audit/archive";
import { verifyAgainstArchive } from "../../src/core/audit/archive-verify";
import { instanceAuditStream, nextAuditEntry } from "../../src/core/audit/chain";
import type { AuditEntry } from "../../src/core/model";

const SECRET = "keyshift/exchange/deribit/main";
const INSTANCE = instanceAuditStream(SECRET, "engine", "i-1");

/** A chain of `actions` for `stream`, as the table holds it. */
function chain(actions: string[], stream = SECRET, at = "2030-01-01T00:00:00.000Z"): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (const action of actions) {
    const event = {
      secretId: SECRET,
      actor: "keyshift:test",
      action,
      ...(stream !== SECRET ? { stream } : {}),
    };
    entries.push(nextAuditEntry(entries.at(-1), event, new Date(at)));
  }
  return entries;
}

/** The stream record of a table item: entries carry `stream` as their key attribute. */
const record = (
  entry: AuditEntry,
  eventName: AuditStreamRecord["eventName"] = "INSERT",
): AuditStreamRecord => ({
  id: `${entry.stream ?? entry.secretId}-${entry.seq}`,
  eventName,
  image: { ...entry, stream: entry.stream ?? entry.secretId },
});

let archive: InMemoryAuditArchive;
let alerts: InMemoryAlerts;
let clock: FakeClock;
let table: Map<string, AuditEntry[]>;
const audit = { list: async (stream: string) => table.get(stream) ?? [] };

beforeEach(() => {
  archive = new InMemoryAuditArchive();
  alerts = new InMemoryAlerts();
  clock = new FakeClock("2030-01-01T00:01:00.000Z");
  table = new Map([
    [SECRET, chain(["secret-enrolled", "rotation-started", "next-created"])],
    [INSTANCE, chain(["fingerprint-changed", "fingerprint-changed"], INSTANCE)],
  ]);
});

const archiveAll = () =>
  archiveAuditRecords(
    [...table.values()].flat().map((e) => record(e)),
    { archive, alerts },
  );
const verify = () => verifyAgainstArchive(SECRET, [...table.keys()], { audit, archive, clock });

describe("archive keys", () => {
  it("order a trail by seq and keep stream ids with / and # apart", () => {
    const keys = [10, 2, 1].map((seq) => archiveKey(INSTANCE, seq)).sort();
    expect(keys.map((k) => parseArchiveKey(k))).toEqual([1, 2, 10].map((seq) => ({ stream: INSTANCE, seq })));
    expect(archiveKey(SECRET, 1)).toBe("trails/keyshift%2Fexchange%2Fderibit%2Fmain/000000000001.json");
  });
});

describe("archiveAuditRecords", () => {
  it("archives every entry once and skips heads and stream-register items", async () => {
    const head = { stream: SECRET, seq: 0, headSeq: 3, headHash: "h", committed: true, entry: {} };
    const register = { stream: `${SECRET}#streams`, seq: 12345, registered: INSTANCE };
    const entries = [...table.values()].flat().map((e) => record(e));
    const out = await archiveAuditRecords(
      [
        ...entries,
        { id: "h", eventName: "MODIFY", image: head },
        { id: "r", eventName: "INSERT", image: register },
      ],
      { archive, alerts },
    );
    expect(out).toMatchObject({ archived: 5, skipped: 2, conflicts: [] });
    expect(archive.objects.size).toBe(5);
  });

  it("a redelivered batch finds its own bytes: no conflict, nothing rewritten", async () => {
    await archiveAll();
    const again = await archiveAll();
    expect(again).toMatchObject({ archived: 0, alreadyArchived: 5, conflicts: [] });
    expect(alerts.sent).toEqual([]);
  });

  it("an entry rewritten in the table is alerted and the archive keeps the original", async () => {
    await archiveAll();
    const original = archive.objects.get(archiveKey(SECRET, 2));
    const [, forged] = chain(["secret-enrolled", "nothing-to-see"]);
    if (!forged) throw new Error("no entry");
    const out = await archiveAuditRecords([record(forged, "MODIFY")], { archive, alerts });
    expect(out.conflicts).toEqual([{ stream: SECRET, seq: 2 }]);
    expect(alerts.kinds()).toEqual(["audit-archive-conflict"]);
    expect(archive.objects.get(archiveKey(SECRET, 2))).toBe(original);
  });

  it("stops at the first failing record and names it, so the retry resumes there in order", async () => {
    archive.failing.add(archiveKey(SECRET, 2));
    const out = await archiveAll();
    expect(out.failedAt).toBe(`${SECRET}-2`);
    expect(out.failure).toContain("injected: archive put");
    expect(await archive.list("trails/")).toEqual([archiveKey(SECRET, 1)]);
  });
});

describe("verifyAgainstArchive", () => {
  it("passes when table and archive hold the same trails", async () => {
    await archiveAll();
    expect(await verify()).toMatchObject({ ok: true, trails: 2, matching: 5, findings: [] });
  });

  it("reports a trail rewritten in the table, head and entries together, at its first differing seq", async () => {
    await archiveAll();
    // A consistent forgery: the chain verifies on its own (its head would match it too).
    table.set(SECRET, chain(["secret-enrolled", "rotation-started", "nothing-happened", "quiet"]));
    const result = await verify();
    expect(result.ok).toBe(false);
    expect(result.findings).toEqual([expect.objectContaining({ stream: SECRET, seq: 3, kind: "differs" })]);
  });

  it("reports an archived entry gone from the table, and a trail deleted whole", async () => {
    await archiveAll();
    table.set(SECRET, chain(["secret-enrolled", "rotation-started"]));
    table.delete(INSTANCE);
    const result = await verify();
    expect(result.findings).toEqual([
      expect.objectContaining({ stream: SECRET, seq: 3, kind: "missing-from-table" }),
      expect.objectContaining({ stream: INSTANCE, seq: 1, kind: "missing-from-table" }),
    ]);
  });

  it("allows the newest entries to be in flight, not older ones", async () => {
    await archiveAll();
    const longer = chain(["secret-enrolled", "rotation-started", "next-created", "promoted"]);
    table.set(SECRET, longer);
    expect(await verify()).toMatchObject({ ok: true, pending: 1 });
    clock.advance(24 * 3600);
    expect((await verify()).findings).toEqual([
      expect.objectContaining({ stream: SECRET, seq: 4, kind: "missing-from-archive" }),
    ]);
  });
});
