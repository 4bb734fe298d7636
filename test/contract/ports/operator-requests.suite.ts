/**
 * The `OperatorRequests` port: a request is created once, read back as written (a null secret
 * included), listed newest first, and moved only from the status it was read in — of two racing
 * transitions, one wins.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { OperatorRequest } from "../../../src/core/operator/approvals";
import type { OperatorRequests } from "../../../src/core/ports";
import { iso, type PortTarget } from "./support";

export function operatorRequestsContract(target: PortTarget<OperatorRequests>): void {
  describe(`OperatorRequests (${target.name})`, () => {
    let requests: OperatorRequests;
    beforeEach(() => {
      requests = target.make();
    });

    const request = (suffix: string, createdAt: string, secretId: string | null): OperatorRequest => ({
      requestId: `req-${target.id(suffix)}`,
      kind: "approval",
      command: "force-revoke",
      envelope: { command: "force-revoke", args: ["s", "--reason=r"], idempotencyKey: "key-00000001" },
      secretId,
      requester: "operator:arn:aws:sts::123456789012:assumed-role/ops/alice",
      reason: "r",
      ticket: null,
      createdAt,
      expiresAt: iso(86_400),
      status: "requested",
    });

    it("creates a request once and reads it back as written", async () => {
      const first = request("a", iso(0), "keyshift/exchange/x");
      const global = request("b", iso(1), null);

      expect(await requests.create(first)).toBe(true);
      expect(await requests.create({ ...first, reason: "again" })).toBe(false);
      expect(await requests.create(global)).toBe(true);

      expect(await requests.get(first.requestId)).toEqual(first);
      expect(await requests.get(global.requestId)).toEqual(global);
      expect(await requests.get(`req-${target.id("none")}`)).toBeUndefined();
      const mine = (await requests.list()).filter((r) =>
        [first.requestId, global.requestId].includes(r.requestId),
      );
      expect(mine.map((r) => r.requestId)).toEqual([global.requestId, first.requestId]);
    });

    it("moves a request only from the status it was read in: one of two racing transitions wins", async () => {
      const r = request("c", iso(0), "keyshift/exchange/x");
      await requests.create(r);
      const approve = { status: "approved", decidedBy: "operator:bob", decidedAt: iso(60) } as const;
      const deny = { status: "denied", decidedBy: "operator:carol", decidedAt: iso(61) } as const;

      const outcomes = await Promise.all([
        requests.transition(r.requestId, "requested", approve),
        requests.transition(r.requestId, "requested", deny),
      ]);

      expect(outcomes.filter(Boolean)).toHaveLength(1);
      const stored = await requests.get(r.requestId);
      expect([approve, deny]).toContainEqual({
        status: stored?.status,
        decidedBy: stored?.decidedBy,
        decidedAt: stored?.decidedAt,
      });
      expect(await requests.transition(r.requestId, "requested", { status: "expired" })).toBe(false);
      expect(await requests.transition(`req-${target.id("none")}`, "requested", { status: "expired" })).toBe(
        false,
      );
    });
  });
}
