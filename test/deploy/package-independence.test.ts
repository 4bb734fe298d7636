/**
 * The template does not depend on the enrollment file (issue 19): a copy of the service declaring
 * 2 secrets and one declaring 10,000 package to the same resources, type by type. Before the
 * schedules moved to run time, each declared secret added an EventBridge rule and an alarm
 * (2 secrets → 91 resources, 200 → 487: past 500 at about 200 keys). Two packagings: slow.
 */
import { describe, expect, it } from "vitest";
import { packageWithDeclaredSecrets } from "../../harness/bench/package-fleet";

describe("the template is independent of the number of declared secrets", () => {
  it("packages 2 and 10,000 declared secrets to the same resources, far under CloudFormation's 500", async () => {
    const two = await packageWithDeclaredSecrets(2);
    const fleet = await packageWithDeclaredSecrets(10_000);

    expect(fleet.resources).toBe(two.resources);
    expect(fleet.resourceTypes).toEqual(two.resourceTypes);
    expect(two.resources).toBeLessThan(200);
    expect(two.resourceTypes["AWS::Scheduler::ScheduleGroup"]).toBe(1);
  }, 900_000);
});
