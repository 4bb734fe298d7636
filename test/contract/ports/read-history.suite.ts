/**
 * The `ReadHistory` port: per principal, when it last read each secret (answered by the next
 * read), which reads were marked new, and which secrets it read new since a time — its own
 * partition only, and a principal too long for a key still told apart from another.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { ReadHistory } from "../../../src/core/ports";
import { at, iso, type PortTarget } from "./support";

export function readHistoryContract(target: PortTarget<ReadHistory>): void {
  describe(`ReadHistory (${target.name})`, () => {
    let history: ReadHistory;
    beforeEach(() => {
      history = target.make();
    });

    it("answers each read with when the principal last read that secret before", async () => {
      const reader = `arn:aws:iam::123456789012:role/${target.id("reader")}`;
      const secret = target.id("s");

      const first = await history.recordRead(reader, secret, at(0));
      const second = await history.recordRead(reader, secret, at(60));
      const otherSecret = await history.recordRead(reader, `${secret}-2`, at(61));
      const otherReader = await history.recordRead(`${reader}-2`, secret, at(62));

      expect({ first, second, otherSecret, otherReader }).toEqual({
        first: { previousAt: undefined },
        second: { previousAt: iso(0) },
        otherSecret: { previousAt: undefined },
        otherReader: { previousAt: undefined },
      });
    });

    it("lists the secrets a principal read new since a time, sorted, its own only", async () => {
      const reader = `arn:aws:iam::123456789012:role/${target.id("reader")}`;
      const base = target.id("s");
      for (const [i, seconds] of [
        [1, 0],
        [2, 1800],
        [3, 3600],
      ] as const) {
        await history.recordRead(reader, `${base}-${i}`, at(seconds));
        await history.markNew(reader, `${base}-${i}`, at(seconds));
      }
      await history.recordRead(reader, `${base}-old`, at(3600)); // read, never marked new
      await history.recordRead(`${reader}-2`, `${base}-x`, at(3600));
      await history.markNew(`${reader}-2`, `${base}-x`, at(3600));

      expect(await history.newSince(reader, at(1800))).toEqual([`${base}-2`, `${base}-3`]);
      expect(await history.newSince(reader, at(0))).toEqual([`${base}-1`, `${base}-2`, `${base}-3`]);
      expect(await history.newSince(reader, at(3601))).toEqual([]);
    });

    it("lists every secret a principal ever read with its last read, sorted, its own only", async () => {
      const reader = `arn:aws:iam::123456789012:role/${target.id("reader")}`;
      const base = target.id("s");
      await history.recordRead(reader, `${base}-b`, at(0));
      await history.recordRead(reader, `${base}-a`, at(10));
      await history.recordRead(reader, `${base}-b`, at(20));
      await history.recordRead(`${reader}-2`, `${base}-c`, at(30));

      expect(await history.readsBy(reader)).toEqual([
        { secretId: `${base}-a`, lastReadAt: iso(10) },
        { secretId: `${base}-b`, lastReadAt: iso(20) },
      ]);
      expect(await history.readsBy(`${reader}-3`)).toEqual([]);
    });

    it("a principal too long for a key is still told apart from another", async () => {
      const long = `arn:aws:sts::123456789012:assumed-role/${"r".repeat(600)}`;
      const secret = target.id("long");
      await history.recordRead(`${long}/a`, secret, at(0));
      await history.markNew(`${long}/a`, secret, at(0));

      expect(await history.recordRead(`${long}/b`, secret, at(1))).toEqual({ previousAt: undefined });
      expect(await history.newSince(`${long}/b`, at(0))).toEqual([]);
      expect(await history.newSince(`${long}/a`, at(0))).toEqual([secret]);
    });
  });
}
