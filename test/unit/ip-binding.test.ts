import { beforeEach, describe, expect, it } from "vitest";
import { EgressNotBoundError, ExchangeIpRefusedError } from "../../src/core/errors";
import { hygieneAudit } from "../../src/core/hygiene/audit";
import { ipAllowed, judgeBinding } from "../../src/core/ip-binding";
import { createNext } from "../../src/core/rotation/create-next";
import { type FakeDeps, makeDeps, type SeededSecret, seedSecret } from "./fakes";
import { startRotation } from "./support/flow";

describe("ipAllowed / judgeBinding", () => {
  it.each([
    [["10.0.0.0/8"], "10.200.3.4", true],
    [["10.0.0.0/8"], "11.0.0.1", false],
    [["192.168.1.10"], "192.168.1.10", true],
    [["192.168.1.10"], "192.168.1.11", false],
    [["192.168.1.0/31"], "192.168.1.1", true],
    [["192.168.1.0/31"], "192.168.1.2", false],
    [["0.0.0.0/0"], "8.8.8.8", true],
    [[], "8.8.8.8", true],
    [["10.0.0.0/33"], "10.0.0.1", false],
    [["300.1.1.1"], "300.1.1.1", true],
  ])("%j lets %s in: %s", (list, ip, expected) => {
    expect(ipAllowed(list, ip)).toBe(expected);
  });

  it("names exactly the egress IPs a binding lacks", () => {
    expect(judgeBinding(["10.0.0.0/24", "52.1.1.1"], ["52.1.1.1", "52.1.1.2", "10.0.0.9"])).toEqual({
      state: "lacks-egress",
      ips: ["10.0.0.0/24", "52.1.1.1"],
      missing: ["52.1.1.2"],
    });
    expect(judgeBinding(["52.1.1.0/30"], ["52.1.1.1", "52.1.1.2"]).state).toBe("egress-allowed");
    expect(judgeBinding(["52.1.1.1"], undefined).state).toBe("no-egress");
    expect(judgeBinding(["52.1.1.1"], []).state).toBe("no-egress");
    expect(judgeBinding(undefined, ["52.1.1.1"]).state).toBe("unbound");
    expect(judgeBinding([], undefined).state).toBe("unbound");
  });
});

describe("an IP-bound key's rotation (CreateNext)", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  const rotationId = "rot-ip";
  const ref = () => ({ secretId: seeded.secretId, rotationId });

  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps);
    await startRotation(deps, seeded.secretId, rotationId);
  });

  it("refuses before creating anything when the binding lacks keyshift's egress, naming the missing IPs and the fix", async () => {
    deps.egressIps = ["52.1.1.1", "52.1.1.2"];
    deps.exchange.edit(seeded.account, seeded.keyId, { ipAllowlist: ["52.1.1.1", "10.1.0.0/16"] });

    const err = await createNext(ref(), deps).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(EgressNotBoundError);
    expect((err as Error).message).toContain(`current key ${seeded.keyId}`);
    expect((err as Error).message).toMatch(/LACKS keyshift's egress 52\.1\.1\.2\b/);
    expect((err as Error).message).toContain("add 52.1.1.2");
    expect((err as Error).message).not.toMatch(/add 52\.1\.1\.1/);
    expect(deps.exchange.callsTo("createKey")).toEqual([]);
    expect(deps.exchange.activeKeyIds(seeded.account)).toEqual([seeded.keyId]);
  });

  it("refuses a bound key when keyshift has no fixed egress, and says how to get one", async () => {
    deps.exchange.edit(seeded.account, seeded.keyId, { ipAllowlist: ["52.1.1.1"] });

    const err = await createNext(ref(), deps).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(EgressNotBoundError);
    expect((err as Error).message).toContain("--param egress=managed");
    expect(deps.exchange.callsTo("createKey")).toEqual([]);
  });

  it("creates the new key with the same binding when it lets the egress in (a CIDR counts), and records it", async () => {
    deps.egressIps = ["52.1.1.2"];
    deps.exchange.edit(seeded.account, seeded.keyId, { ipAllowlist: ["52.1.1.0/30", "10.9.9.9"] });

    const out = await createNext(ref(), deps);

    expect(deps.exchange.key(seeded.account, out.next.exchangeKeyId)?.ipAllowlist).toEqual([
      "52.1.1.0/30",
      "10.9.9.9",
    ]);
    expect((await deps.store.getVersions(seeded.secretId))?.next?.ipAllowlist).toEqual([
      "52.1.1.0/30",
      "10.9.9.9",
    ]);
  });

  it("rotates an unbound key with or without a fixed egress (nothing to copy)", async () => {
    const out = await createNext(ref(), deps);
    expect(deps.exchange.key(seeded.account, out.next.exchangeKeyId)?.ipAllowlist).toBeUndefined();
  });
});

describe("hygiene: IP bindings", () => {
  it("reports a current key whose binding lacks the egress, with the IPs to add", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps);
    deps.egressIps = ["52.1.1.1"];
    deps.exchange.edit(seeded.account, seeded.keyId, { ipAllowlist: ["10.0.0.1"] });

    const { findings } = await hygieneAudit({}, deps);

    const found = findings.filter((f) => f.kind === "ip-binding-lacks-egress");
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: "high", secretId: seeded.secretId });
    expect(found[0]?.fix).toContain("add 52.1.1.1");
  });

  it("reports nothing about a binding that lets the egress in", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps);
    deps.egressIps = ["52.1.1.1"];
    deps.exchange.edit(seeded.account, seeded.keyId, { ipAllowlist: ["52.1.1.1", "10.0.0.1"] });
    deps.exchange.capabilitiesValue = { ...deps.exchange.capabilitiesValue, unboundKeyExpiry: "expires" };

    const { findings } = await hygieneAudit({}, deps);

    expect(findings.map((f) => f.kind)).not.toContain("ip-binding-lacks-egress");
    expect(findings.map((f) => f.kind)).not.toContain("unbound-key-expires");
  });

  it("reports an unbound key only where the exchange expires unbound keys", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps);
    expect((await hygieneAudit({}, deps)).findings.map((f) => f.kind)).not.toContain("unbound-key-expires");

    deps.exchange.capabilitiesValue = {
      ...deps.exchange.capabilitiesValue,
      unboundKeyExpiry: "the exchange deletes a key without an IP binding after 14 days unused",
    };
    const { findings } = await hygieneAudit({}, deps);

    const found = findings.filter((f) => f.kind === "unbound-key-expires");
    expect(found).toHaveLength(1);
    expect(found[0]?.message).toContain(seeded.keyId);
    expect(found[0]?.message).toContain("14 days unused");
  });

  it("reports an admin key that refuses keyshift's address as such, not as an unreadable listing", async () => {
    const deps = makeDeps();
    await seedSecret(deps);
    deps.egressIps = ["52.1.1.1"];
    deps.exchange.faults.failNext("listKeys", 1, ExchangeIpRefusedError, "retCode 10010: unmatched IP");

    const { findings } = await hygieneAudit({}, deps);

    expect(findings.map((f) => f.kind)).toEqual(["admin-ip-refused"]);
    expect(findings[0]?.fix).toContain("52.1.1.1");
  });
});
