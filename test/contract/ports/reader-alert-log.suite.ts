/**
 * The `ReaderAlertLog` port: the unregistered-reader alert goes out once per principal per secret
 * per day — the first claim wins, a confirmed one is never claimed again that day, and a claim left
 * unconfirmed for more than 30 s (the alert failed, the function died) may be claimed again.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { ReaderAlertLog } from "../../../src/core/ports";
import { at, type PortTarget } from "./support";

export function readerAlertLogContract(target: PortTarget<ReaderAlertLog>): void {
  describe(`ReaderAlertLog (${target.name})`, () => {
    let alerts: ReaderAlertLog;
    beforeEach(() => {
      alerts = target.make();
    });
    const READER = "arn:aws:iam::123456789012:role/intruder";
    const DAY = "2030-01-01";

    it("the first claim wins; others are refused while it is fresh, up to its 30th second", async () => {
      const secretId = target.id("claim");

      const first = await alerts.claim(secretId, READER, DAY, at(0));
      const racing = await alerts.claim(secretId, READER, DAY, at(1));
      const atStale = await alerts.claim(secretId, READER, DAY, at(30));
      const otherReader = await alerts.claim(secretId, `${READER}-2`, DAY, at(1));
      const nextDay = await alerts.claim(secretId, READER, "2030-01-02", at(1));

      expect({ first, racing, atStale, otherReader, nextDay }).toEqual({
        first: true,
        racing: false,
        atStale: false,
        otherReader: true,
        nextDay: true,
      });
    });

    it("an unconfirmed claim past 30 s is taken again; a confirmed one never that day", async () => {
      const secretId = target.id("stale");
      await alerts.claim(secretId, READER, DAY, at(0));
      const retaken = await alerts.claim(secretId, READER, DAY, at(31));
      await alerts.confirm(secretId, READER, DAY, at(32));

      const afterConfirm = await alerts.claim(secretId, READER, DAY, at(3600));

      expect({ retaken, afterConfirm }).toEqual({ retaken: true, afterConfirm: false });
    });

    it("a principal too long for a key is still told apart from another", async () => {
      const secretId = target.id("long");
      const long = `arn:aws:sts::123456789012:assumed-role/${"r".repeat(600)}`;

      expect(await alerts.claim(secretId, `${long}/a`, DAY, at(0))).toBe(true);
      expect(await alerts.claim(secretId, `${long}/b`, DAY, at(0))).toBe(true);
      expect(await alerts.claim(secretId, `${long}/a`, DAY, at(1))).toBe(false);
    });
  });
}
