import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { scheduleProblem } from "../../src/core/enrollment/schedule-rules";
import {
  flexibleWindowProblem,
  SCHEDULE_NAME,
  timezoneProblem,
} from "../../src/core/enrollment/schedule-spec";
import { rateSeconds } from "../../src/core/schedule";
import { nextScheduledStartIn } from "../../src/core/schedule-timezone";
import { LOCAL_ACCOUNT, LOCAL_REGION } from "./definition";
import type { LocalCredentials } from "./local-iam";
import { type SigningSecret, type SigV4Reason, verifySigV4 } from "./sigv4-verify";

/** The local stack's schedule group, the role schedules start executions as, and the dead-letter queue. */
export const LOCAL_SCHEDULE_GROUP = "keyshift-local-rotations";
export const LOCAL_SCHEDULER_ROLE_ARN = `arn:aws:iam::${LOCAL_ACCOUNT}:role/keyshift-local-scheduler`;
export const LOCAL_SCHEDULE_DLQ_ARN = `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:keyshift-local-schedule-dlq`;
/** What keyshift's role may call on the emulator: the five calls it makes. */
export const SCHEDULER_ACTIONS = [
  "scheduler:CreateSchedule",
  "scheduler:UpdateSchedule",
  "scheduler:GetSchedule",
  "scheduler:DeleteSchedule",
  "scheduler:ListSchedules",
];

/** Who may call, and what each role may do (`LocalIam`). */
export interface SchedulerCallers {
  lookup(accessKeyId: string): (SigningSecret & { allowedActions: readonly string[] }) | undefined;
  assumeRole(roleArn: string, sessionName: string): LocalCredentials;
}

/** A schedule as the service stores it: the REST-JSON body of CreateSchedule, plus its bookkeeping. */
interface Stored {
  body: Record<string, unknown>;
  arn: string;
  createdAt: number;
  modifiedAt: number;
  /** The next start, on the emulator's (compressed) clock, ms; undefined: none. */
  nextAt?: number;
}

/** One start the emulator made (or could not make: then `error`, and it went to the dead letters). */
export interface SchedulerFiring {
  name: string;
  at: string;
  input: string;
  executionArn?: string;
  error?: string;
}

export interface LocalScheduler {
  endpoint: string;
  group: string;
  /** Every start made so far (not an AWS API). */
  firings: SchedulerFiring[];
  /** The emulator's clock: real time × `timeScale` since the scale was last set. */
  now(): Date;
  /** Runs the clock `scale` times faster than real time from now on (`npm start`'s compression). */
  setTimeScale(scale: number): void;
  close(): Promise<void>;
}

/**
 * How the REST-JSON front end answers an unauthenticated call (API Gateway-style services such as
 * Scheduler): `x-amzn-errortype` and a JSON `Message`. Not checked against Scheduler itself.
 */
const AUTH_ERRORS: Record<SigV4Reason, [code: string, status: number]> = {
  missing: ["MissingAuthenticationTokenException", 403],
  incomplete: ["IncompleteSignatureException", 400],
  expired: ["InvalidSignatureException", 403],
  scope: ["InvalidSignatureException", 403],
  signature: ["InvalidSignatureException", 403],
  "unknown-key": ["UnrecognizedClientException", 403],
  token: ["UnrecognizedClientException", 403],
};

type Answer = [status: number, body: Record<string, unknown>, error?: string];
const fail = (status: number, type: string, message: string): Answer => [status, { Message: message }, type];

/**
 * EventBridge Scheduler for the calls keyshift makes (CreateSchedule, UpdateSchedule, GetSchedule,
 * DeleteSchedule, ListSchedules) over the SDK's REST-JSON protocol, in one schedule group. Every
 * call is authenticated by SigV4 (service `scheduler`) against `callers` and authorized by the
 * caller's grants (`scheduler:<Operation>`). Errors as the service answers them:
 * ConflictException "Schedule X already exists." (409), ResourceNotFoundException "Schedule X does
 * not exist." (404, aws/aws-sdk-js-v3#5720), ValidationException "Invalid Schedule Expression X."
 * (400, as quoted in localstack/localstack#9284). Due schedules call StartExecution on the local
 * Step Functions API as their target's role (`assumeRole`), on a clock `timeScale` times faster
 * than real time; a start that fails is recorded with its error (the dead-letter queue).
 */
export async function startLocalScheduler(opts: {
  callers: SchedulerCallers;
  region: string;
  accountId: string;
  group: string;
  stepFunctionsEndpoint: string;
  timeScale?: number;
  tickMs?: number;
}): Promise<LocalScheduler> {
  let scale = opts.timeScale ?? 1;
  let realBase = Date.now();
  let emulatedBase = realBase;
  const now = () => emulatedBase + (Date.now() - realBase) * scale;
  const schedules = new Map<string, Stored>();
  const firings: SchedulerFiring[] = [];
  const clients = new Map<string, SFNClient>();

  const scheduleArn = (name: string) =>
    `arn:aws:scheduler:${opts.region}:${opts.accountId}:schedule/${opts.group}/${name}`;

  const operations = {
    CreateSchedule: (name: string, body: Record<string, unknown>): Answer => {
      const existing = schedules.get(name);
      // The SDK fills ClientToken: a retried create of the same request is answered, not refused.
      if (existing && body.ClientToken !== undefined && existing.body.ClientToken === body.ClientToken)
        return [200, { ScheduleArn: existing.arn }];
      if (existing) return fail(409, "ConflictException", `Schedule ${name} already exists.`);
      const invalid = validate(name, body);
      if (invalid) return invalid;
      const at = now();
      const stored: Stored = { body, arn: scheduleArn(name), createdAt: at, modifiedAt: at };
      stored.nextAt = nextStart(stored, at);
      schedules.set(name, stored);
      return [200, { ScheduleArn: stored.arn }];
    },
    UpdateSchedule: (name: string, body: Record<string, unknown>): Answer => {
      const found = schedules.get(name);
      if (!found) return fail(404, "ResourceNotFoundException", `Schedule ${name} does not exist.`);
      const invalid = validate(name, body);
      if (invalid) return invalid;
      const at = now();
      Object.assign(found, { body, modifiedAt: at });
      found.nextAt = nextStart(found, at);
      return [200, { ScheduleArn: found.arn }];
    },
    GetSchedule: (name: string): Answer => {
      const found = schedules.get(name);
      if (!found) return fail(404, "ResourceNotFoundException", `Schedule ${name} does not exist.`);
      const { ClientToken: _t, GroupName: _g, ...fields } = found.body;
      return [
        200,
        {
          ...fields,
          Arn: found.arn,
          Name: name,
          GroupName: opts.group,
          CreationDate: found.createdAt / 1000,
          LastModificationDate: found.modifiedAt / 1000,
        },
      ];
    },
    DeleteSchedule: (name: string): Answer => {
      if (!schedules.delete(name))
        return fail(404, "ResourceNotFoundException", `Schedule ${name} does not exist.`);
      return [200, {}];
    },
    ListSchedules: (query: URLSearchParams): Answer => {
      const max = Number(query.get("MaxResults") ?? 100);
      if (!Number.isInteger(max) || max < 1 || max > 100)
        return fail(400, "ValidationException", "MaxResults must be between 1 and 100.");
      const prefix = query.get("NamePrefix") ?? "";
      // State filters as documented (ENABLED | DISABLED); a schedule created without one is ENABLED.
      const state = query.get("State");
      if (state !== null && state !== "ENABLED" && state !== "DISABLED")
        return fail(400, "ValidationException", `State ${state} is not one of ENABLED, DISABLED.`);
      const stateOf = (n: string) => (schedules.get(n) as Stored).body.State ?? "ENABLED";
      const names = [...schedules.keys()]
        .filter((n) => n.startsWith(prefix) && (state === null || stateOf(n) === state))
        .sort();
      const token = query.get("NextToken");
      const from = token ? Number(Buffer.from(token, "base64url").toString("utf8")) : 0;
      const page = names.slice(from, from + max);
      const next =
        from + max < names.length ? Buffer.from(String(from + max)).toString("base64url") : undefined;
      return [
        200,
        {
          Schedules: page.map((n) => {
            const s = schedules.get(n) as Stored;
            return {
              Arn: s.arn,
              Name: n,
              GroupName: opts.group,
              State: s.body.State ?? "ENABLED",
              CreationDate: s.createdAt / 1000,
              LastModificationDate: s.modifiedAt / 1000,
              Target: { Arn: (s.body.Target as { Arn?: string } | undefined)?.Arn },
            };
          }),
          ...(next ? { NextToken: next } : {}),
        },
      ];
    },
  };

  function validate(name: string, body: Record<string, unknown>): Answer | undefined {
    const invalid = (message: string) => fail(400, "ValidationException", message);
    if (!SCHEDULE_NAME.test(name)) return invalid(`Invalid schedule name ${name}.`);
    const group = body.GroupName ?? "default";
    if (group !== opts.group)
      return fail(404, "ResourceNotFoundException", `Schedule group ${group} does not exist.`);
    const expression = body.ScheduleExpression;
    if (typeof expression !== "string" || scheduleProblem(expression))
      return invalid(`Invalid Schedule Expression ${String(expression)}.`);
    const zone = body.ScheduleExpressionTimezone;
    if (zone !== undefined && timezoneProblem(zone)) return invalid(`Invalid time zone ${String(zone)}.`);
    const window = body.FlexibleTimeWindow as { Mode?: string; MaximumWindowInMinutes?: unknown } | undefined;
    if (!window || (window.Mode !== "OFF" && window.Mode !== "FLEXIBLE"))
      return invalid("FlexibleTimeWindow.Mode must be OFF or FLEXIBLE.");
    if (
      window.Mode === "FLEXIBLE" &&
      (window.MaximumWindowInMinutes === undefined || flexibleWindowProblem(window.MaximumWindowInMinutes))
    )
      return invalid("MaximumWindowInMinutes must be between 1 and 1440 when Mode is FLEXIBLE.");
    if (window.Mode === "OFF" && window.MaximumWindowInMinutes !== undefined)
      return invalid("MaximumWindowInMinutes must not be provided when Mode is OFF.");
    const target = body.Target as { Arn?: unknown; RoleArn?: unknown } | undefined;
    if (typeof target?.Arn !== "string" || typeof target.RoleArn !== "string")
      return invalid("Target.Arn and Target.RoleArn are required.");
    return undefined;
  }

  /** The next start after `after`: a rate counts from the schedule's creation; a window spreads it. */
  function nextStart(s: Stored, after: number): number | undefined {
    if (s.body.State === "DISABLED") return undefined;
    const expression = String(s.body.ScheduleExpression);
    const zone = s.body.ScheduleExpressionTimezone as string | undefined;
    const at = nextScheduledStartIn(expression, zone, new Date(after), new Date(s.createdAt));
    if (!at) return undefined;
    const window = s.body.FlexibleTimeWindow as { Mode?: string; MaximumWindowInMinutes?: number };
    const spread =
      window.Mode === "FLEXIBLE"
        ? (createHash("sha256").update(`${s.arn}${at.getTime()}`).digest().readUInt32BE(0) %
            ((window.MaximumWindowInMinutes ?? 1) * 60)) *
          1000
        : 0;
    return at.getTime() + spread;
  }

  async function fire(name: string, s: Stored, at: number): Promise<void> {
    const target = s.body.Target as { Arn: string; RoleArn: string; Input?: string };
    const firing: SchedulerFiring = { name, at: new Date(at).toISOString(), input: target.Input ?? "{}" };
    firings.push(firing);
    try {
      let client = clients.get(target.RoleArn);
      if (!client) {
        client = new SFNClient({
          region: opts.region,
          endpoint: opts.stepFunctionsEndpoint,
          credentials: opts.callers.assumeRole(target.RoleArn, "scheduler"),
        });
        clients.set(target.RoleArn, client);
      }
      const started = await client.send(
        new StartExecutionCommand({ stateMachineArn: target.Arn, input: target.Input ?? "{}" }),
      );
      firing.executionArn = started.executionArn;
    } catch (err) {
      firing.error = `${(err as Error).name}: ${(err as Error).message}`;
    }
  }

  const timer = setInterval(() => {
    const at = now();
    for (const [name, s] of schedules) {
      if (s.nextAt === undefined || s.nextAt > at) continue;
      const due = s.nextAt;
      s.nextAt = nextStart(s, Math.max(due, at - 1));
      void fire(name, s, due);
    }
  }, opts.tickMs ?? 50);

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const [status, payload, error] = await handle(req, body);
      res.writeHead(status, {
        "content-type": "application/json",
        "x-amzn-requestid": randomUUID(),
        ...(error ? { "x-amzn-errortype": error } : {}),
      });
      res.end(JSON.stringify(payload));
    });
  });

  async function handle(req: IncomingMessage, body: string): Promise<Answer> {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
    const auth = await verifySigV4(
      { method: req.method ?? "GET", url, headers: req.headers, body },
      { service: "scheduler", region: opts.region },
      (key) => opts.callers.lookup(key),
    );
    if ("reject" in auth) {
      const [code, status] = AUTH_ERRORS[auth.reject];
      return fail(status, code, auth.message);
    }
    const route = routeOf(req.method ?? "GET", url.pathname);
    if (!route) return fail(404, "UnknownOperationException", `${req.method} ${url.pathname}`);
    const allowed = auth.principal.allowedActions;
    if (!allowed.includes(`scheduler:${route.operation}`) && !allowed.includes("scheduler:*"))
      return fail(403, "AccessDeniedException", `not authorized to perform: scheduler:${route.operation}`);
    let parsed: Record<string, unknown> = {};
    if (body) {
      try {
        parsed = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return fail(400, "ValidationException", "the request body is not JSON");
      }
    }
    const group = url.searchParams.get("groupName");
    if (route.operation === "ListSchedules") {
      const listed = url.searchParams.get("ScheduleGroup") ?? "default";
      if (listed !== opts.group) return [200, { Schedules: [] }];
      return operations.ListSchedules(url.searchParams);
    }
    const name = route.name ?? "";
    if (
      (route.operation === "GetSchedule" || route.operation === "DeleteSchedule") &&
      (group ?? "default") !== opts.group
    )
      return fail(404, "ResourceNotFoundException", `Schedule ${name} does not exist.`);
    if (route.operation === "GetSchedule") return operations.GetSchedule(name);
    if (route.operation === "DeleteSchedule") return operations.DeleteSchedule(name);
    return operations[route.operation](name, parsed);
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    group: opts.group,
    firings,
    now: () => new Date(now()),
    setTimeScale: (next) => {
      emulatedBase = now();
      realBase = Date.now();
      scale = next;
    },
    close: async () => {
      clearInterval(timer);
      for (const client of clients.values()) client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type Operation = "CreateSchedule" | "UpdateSchedule" | "GetSchedule" | "DeleteSchedule" | "ListSchedules";

function routeOf(method: string, path: string): { operation: Operation; name?: string } | undefined {
  if (path === "/schedules" && method === "GET") return { operation: "ListSchedules" };
  const m = /^\/schedules\/([^/]+)$/.exec(path);
  if (!m) return undefined;
  const name = decodeURIComponent(m[1] ?? "");
  const operation = (
    { POST: "CreateSchedule", PUT: "UpdateSchedule", GET: "GetSchedule", DELETE: "DeleteSchedule" } as const
  )[method as "POST" | "PUT" | "GET" | "DELETE"];
  return operation ? { operation, name } : undefined;
}

/** A rate's interval in ms (for `npm start`'s time compression), or undefined for a cron. */
export function rateMs(expression: string): number | undefined {
  const seconds = rateSeconds(expression);
  return seconds === undefined ? undefined : seconds * 1000;
}
