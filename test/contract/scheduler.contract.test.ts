/**
 * The EventBridge Scheduler behaviour keyshift relies on, through the production adapter
 * (src/adapters/scheduler.ts) and the raw SDK client, as the service documents it. Runs against the
 * local emulator (harness/local/scheduler.ts) by default; with KEYSHIFT_CONTRACT_SCHEDULER_GROUP,
 * _ROLE_ARN, _STATE_MACHINE_ARN and _DLQ_ARN set (a deployed stack's outputs), against the real
 * service in AWS_REGION with the default credentials. Schedules get run-unique names and are
 * deleted afterwards. The cases marked "emulator only" need the emulator's inside view.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CreateScheduleCommand,
  ListSchedulesCommand,
  SchedulerClient,
  ValidationException,
} from "@aws-sdk/client-scheduler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalIam } from "../../harness/local/local-iam";
import { type LocalScheduler, SCHEDULER_ACTIONS, startLocalScheduler } from "../../harness/local/scheduler";
import { InMemoryScheduleStore } from "../../harness/memory";
import { SchedulerScheduleStore } from "../../src/adapters/scheduler";
import { rotationScheduleFor } from "../../src/core/enrollment/schedule-spec";
import {
  type RotationSchedule,
  ScheduleExistsError,
  ScheduleNotFoundError,
  type ScheduleStore,
} from "../../src/core/ports";
import { retryUntil } from "./retry-until";

const env = process.env;
const external = Boolean(env.KEYSHIFT_CONTRACT_SCHEDULER_GROUP);
const region = external ? (env.AWS_REGION ?? "us-east-1") : "us-east-1";
const ACCOUNT = "123456789012";
const OPERATOR_ROLE = `arn:aws:iam::${ACCOUNT}:role/keyshift-contract-operator`;
const deployment = external
  ? {
      stateMachineArn: env.KEYSHIFT_CONTRACT_SCHEDULER_STATE_MACHINE_ARN ?? "",
      roleArn: env.KEYSHIFT_CONTRACT_SCHEDULER_ROLE_ARN ?? "",
      deadLetterArn: env.KEYSHIFT_CONTRACT_SCHEDULER_DLQ_ARN ?? "",
    }
  : {
      stateMachineArn: `arn:aws:states:${region}:${ACCOUNT}:stateMachine:keyshift-contract`,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/keyshift-contract-scheduler`,
      deadLetterArn: `arn:aws:sqs:${region}:${ACCOUNT}:keyshift-contract-dlq`,
    };
const group = env.KEYSHIFT_CONTRACT_SCHEDULER_GROUP ?? "keyshift-contract";
const runId = `c${Date.now().toString(36)}${randomBytes(2).toString("hex")}`;

let emulator: LocalScheduler | undefined;
let client: SchedulerClient;
let store: SchedulerScheduleStore;
/** StartExecution calls the emulator made: [x-amz-target, body, the signing access key]. */
const started: { target: string; body: Record<string, unknown>; accessKeyId: string }[] = [];
let stepFunctions: ReturnType<typeof createServer> | undefined;
const iam = new LocalIam();
const created = new Set<string>();

/** A declared secret's schedule with a run-unique name. */
function schedule(label: string, over: Partial<RotationSchedule> = {}): RotationSchedule {
  const base = rotationScheduleFor(
    { secretId: `keyshift/exchange/contract/${runId}-${label}`, schedule: "rate(30 days)", enabled: true },
    deployment,
  );
  const name = `rotate-${runId}-${label}`;
  created.add(name);
  return { ...base, name, ...over };
}

beforeAll(async () => {
  if (!external) {
    // A stand-in Step Functions endpoint that records what the emulator starts, and as whom.
    stepFunctions = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const accessKeyId = /Credential=([^/]+)\//.exec(String(req.headers.authorization))?.[1] ?? "";
        started.push({
          target: String(req.headers["x-amz-target"]),
          body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>,
          accessKeyId,
        });
        res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
        res.end(JSON.stringify({ executionArn: "arn:aws:states:::execution:x:y", startDate: 0 }));
      });
    });
    await new Promise<void>((r) => stepFunctions?.listen(0, "127.0.0.1", () => r()));
    iam.grant(OPERATOR_ROLE, SCHEDULER_ACTIONS);
    // One emulated minute is 100 ms of real time, so a rate(1 minute) schedule fires during the run.
    emulator = await startLocalScheduler({
      callers: iam,
      region,
      accountId: ACCOUNT,
      group,
      stepFunctionsEndpoint: `http://127.0.0.1:${(stepFunctions.address() as AddressInfo).port}`,
      timeScale: 600,
      tickMs: 10,
    });
  }
  client = new SchedulerClient({
    region,
    ...(emulator
      ? { endpoint: emulator.endpoint, credentials: iam.assumeRole(OPERATOR_ROLE, "contract") }
      : {}),
  });
  store = new SchedulerScheduleStore(client, group);
});

afterAll(async () => {
  for (const name of created) await store.delete(name).catch(() => undefined);
  client?.destroy();
  await emulator?.close();
  await new Promise<void>((r) => (stepFunctions ? stepFunctions.close(() => r()) : r()));
});

/**
 * The `ScheduleStore` port, the same cases for the in-memory adapter (what the unit tests of
 * `apply` run on) and the production adapter on the service: their answers must agree.
 */
const targets: { name: string; store: () => ScheduleStore }[] = [
  { name: "in-memory", store: () => memory },
  { name: "EventBridge Scheduler", store: () => store },
];
const memory = new InMemoryScheduleStore();

describe.each(targets)("ScheduleStore port: $name", (target) => {
  it("round-trips every field keyshift sets: expression, time zone, state, window, target, retry, queue", async () => {
    const flexible = schedule("roundtrip", {
      expression: "cron(0 6 ? * SUN *)",
      timezone: "America/New_York",
      flexibleWindowMinutes: 30,
      enabled: false,
    });
    const off = schedule("off");

    await target.store().create(flexible);
    await target.store().create(off);

    expect(await target.store().get(flexible.name)).toEqual(flexible);
    expect(await target.store().get(off.name)).toEqual(off);
  });

  it("refuses a second create of a name (ConflictException) and an update of no schedule (ResourceNotFoundException)", async () => {
    const first = schedule("conflict");
    await target.store().create(first);

    await expect(target.store().create({ ...first, expression: "rate(7 days)" })).rejects.toBeInstanceOf(
      ScheduleExistsError,
    );
    await expect(target.store().update(schedule("missing"))).rejects.toBeInstanceOf(ScheduleNotFoundError);
    expect(await target.store().get(`rotate-${runId}-never`)).toBeUndefined();
    await expect(target.store().delete(`rotate-${runId}-never`)).resolves.toBeUndefined();
  });

  it("replaces every field on update, and deletes", async () => {
    const s = schedule("update");
    await target.store().create(s);
    const changed = {
      ...s,
      expression: "rate(7 days)",
      timezone: "Europe/London",
      flexibleWindowMinutes: 15,
    };

    await target.store().update(changed);
    expect(await target.store().get(s.name)).toEqual(changed);
    await target.store().update(s);
    expect(await target.store().get(s.name)).toEqual(s);

    await target.store().delete(s.name);
    expect(await target.store().get(s.name)).toBeUndefined();
  });

  it("summarises every schedule of the group: name, state, target ARN, last modification; an update moves the date", async () => {
    const on = schedule("summary-on");
    const off = schedule("summary-off", { enabled: false });
    await target.store().create(on);
    await target.store().create(off);
    const mine = async () =>
      (await target.store().listSummaries()).filter((s) => s.name === on.name || s.name === off.name);

    const before = await mine();
    expect(before.map(({ modifiedAt: _m, ...s }) => s).sort((a, b) => (a.name < b.name ? -1 : 1))).toEqual([
      { name: off.name, enabled: false, targetArn: deployment.stateMachineArn },
      { name: on.name, enabled: true, targetArn: deployment.stateMachineArn },
    ]);
    const createdAt = Date.parse(before.find((s) => s.name === on.name)?.modifiedAt ?? "");
    // The service's clock: the emulator's runs compressed (timeScale), the others real time.
    const serviceNow = target.name === "EventBridge Scheduler" && emulator ? emulator.now() : new Date();
    expect(Math.abs(createdAt - serviceNow.getTime())).toBeLessThan(10 * 60_000);

    await new Promise((r) => setTimeout(r, 20));
    await target.store().update({ ...on, expression: "rate(7 days)" });
    const after = (await mine()).find((s) => s.name === on.name);
    expect(Date.parse(after?.modifiedAt ?? "")).toBeGreaterThanOrEqual(createdAt);
    expect((await target.store().listNames()).sort()).toEqual(
      expect.arrayContaining([on.name, off.name].sort()),
    );
  });
});

describe("EventBridge Scheduler contract (the calls keyshift makes)", () => {
  it.each([
    ["rate(0 days)", "UTC"],
    ["cron(0 6 * * MON *)", "UTC"],
    ["rate(30 days)", "Mars/Olympus_Mons"],
  ])("answers ValidationException for expression %s in zone %s", async (expression, timezone) => {
    const s = schedule(`invalid-${expression.length}-${timezone.length}`, { expression, timezone });
    await expect(store.create(s)).rejects.toBeInstanceOf(ValidationException);
  });

  it("pages ListSchedules in the group with NextToken", async () => {
    for (const label of ["list-a", "list-b", "list-c"]) await store.create(schedule(label));
    const names: string[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(
        new ListSchedulesCommand({
          GroupName: group,
          NamePrefix: `rotate-${runId}-list-`,
          MaxResults: 2,
          NextToken,
        }),
      );
      names.push(...(page.Schedules ?? []).map((s) => s.Name ?? ""));
      NextToken = page.NextToken;
      pages += 1;
    } while (NextToken);

    expect(names.sort()).toEqual([
      `rotate-${runId}-list-a`,
      `rotate-${runId}-list-b`,
      `rotate-${runId}-list-c`,
    ]);
    expect(pages).toBe(2);
    expect(await store.listNames()).toEqual(expect.arrayContaining(names));
  });

  it("ListSchedules answers summaries without the expression, filters by State, and another group's filter lists none of ours", async () => {
    const on = schedule("filter-on");
    const off = schedule("filter-off", { enabled: false });
    await store.create(on);
    await store.create(off);
    const list = async (extra: { State?: "ENABLED" | "DISABLED"; GroupName?: string } = {}) =>
      (
        await client.send(
          new ListSchedulesCommand({ GroupName: group, NamePrefix: `rotate-${runId}-filter-`, ...extra }),
        )
      ).Schedules ?? [];

    const all = await list();
    expect(all.map((s) => s.Name).sort()).toEqual([off.name, on.name]);
    for (const s of all) {
      // A summary: what GetSchedule alone answers is absent, so drift needs GetSchedule.
      expect(Object.keys(s).sort()).toEqual(
        expect.arrayContaining(["Arn", "GroupName", "LastModificationDate", "Name", "State", "Target"]),
      );
      expect(s).not.toHaveProperty("ScheduleExpression");
      expect(s).not.toHaveProperty("ScheduleExpressionTimezone");
      expect(s).not.toHaveProperty("FlexibleTimeWindow");
      expect(Object.keys(s.Target ?? {})).toEqual(["Arn"]);
      expect(s.GroupName).toBe(group);
      expect(s.LastModificationDate).toBeInstanceOf(Date);
    }
    expect((await list({ State: "DISABLED" })).map((s) => s.Name)).toEqual([off.name]);
    expect((await list({ State: "ENABLED" })).map((s) => s.Name)).toEqual([on.name]);
    expect(await list({ GroupName: `${group}-other` })).toEqual([]);
  });

  it.skipIf(external)(
    "authenticates every call: a key nobody issued is refused (emulator only)",
    async () => {
      const stranger = new SchedulerClient({
        region,
        endpoint: emulator?.endpoint,
        credentials: { accessKeyId: "AKIAUNKNOWN000000000", secretAccessKey: "x" },
      });
      await expect(
        stranger.send(
          new CreateScheduleCommand({
            Name: `rotate-${runId}-stranger`,
            GroupName: group,
            ScheduleExpression: "rate(1 day)",
            FlexibleTimeWindow: { Mode: "OFF" },
            Target: { Arn: deployment.stateMachineArn, RoleArn: deployment.roleArn },
          }),
        ),
      ).rejects.toMatchObject({ name: "UnrecognizedClientException" });
      stranger.destroy();
    },
  );

  it.skipIf(external)(
    "fires a due schedule: StartExecution of its state machine with its input, as its execution role (emulator only)",
    async () => {
      const s = schedule("fires", { expression: "rate(1 minute)" });
      await store.create(s);

      await retryUntil(
        async () => expect(started.some((c) => c.body.input === s.target.input)).toBe(true),
        3000,
        20,
      );

      const call = started.find((c) => c.body.input === s.target.input);
      expect(call?.target).toBe("AWSStepFunctions.StartExecution");
      expect(call?.body.stateMachineArn).toBe(deployment.stateMachineArn);
      expect(iam.lookup(call?.accessKeyId ?? "")?.principalArn).toBe(deployment.roleArn);
      expect(JSON.parse(String(call?.body.input))).toMatchObject({ trigger: "schedule" });
      await store.delete(s.name);
    },
  );
});
