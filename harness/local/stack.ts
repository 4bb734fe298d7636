import type { TableNames } from "../../src/adapters/dynamodb/client";
import { type LocalAuditStream, type StreamConsumer, startLocalAuditStream } from "./audit-stream";
import { asFunction } from "./aws-calls";
import { LOCAL_ACCOUNT, LOCAL_REGION } from "./definition";
import { startDynamo } from "./dynamodb";
import { CONSUMER_HOST_IP, EGRESS_IP, leaveFrom } from "./exchange/caller-address";
import { gateLocal } from "./exchange/gate";
import { type ExchangeSimulator, registerKeyshiftSim, startExchangeSimulator } from "./exchange/keyshift-sim";
import {
  binanceLocal,
  bybitLocal,
  deribitLocal,
  keyshiftSimLocal,
  type LocalExchange,
  type LocalExchangeName,
  okxLocal,
  startRealExchangeSimulators,
} from "./exchanges";
import { startLocalFunctionUrl } from "./http-api";
import { krakenLocal, type WebUi } from "./kraken-local";
import { lambdaContext } from "./lambda-context";
import { startLocalLambda } from "./lambda-invoke";
import { type LocalCredentials, LocalIam } from "./local-iam";
import { type LocalS3, startLocalS3 } from "./s3/server";
import {
  LOCAL_SCHEDULE_DLQ_ARN,
  LOCAL_SCHEDULE_GROUP,
  LOCAL_SCHEDULER_ROLE_ARN,
  type LocalScheduler,
  SCHEDULER_ACTIONS,
  startLocalScheduler,
} from "./scheduler";
import type { CloudTrailApiCallEvent } from "./secrets-manager/cloudtrail";
import { startSecretsManagerEmulator } from "./secrets-manager/server";
import { type LocalSns, startLocalSns } from "./sns";
import {
  LOCAL_STATE_MACHINE_ARN,
  type LocalStepFunctionsApi,
  startLocalStepFunctionsApi,
} from "./stepfunctions-api";
import { startLocalSts } from "./sts";

export const LOCAL_TABLES: TableNames = {
  consumers: "keyshift-local-consumers",
  rotations: "keyshift-local-rotations",
  ledger: "keyshift-local-ledger",
  audit: "keyshift-local-audit",
};

/**
 * Two people on the operator plane, each a role of their own: the operator API's front door
 * authenticates either (and lets in only a role given `lambda:InvokeFunctionUrl`, as the stack's
 * operator policy does); the two-person rule needs them both.
 */
export const LOCAL_OPERATOR_ROLE_ARNS = {
  a: `arn:aws:iam::${LOCAL_ACCOUNT}:role/keyshift-local-operator-a`,
  b: `arn:aws:iam::${LOCAL_ACCOUNT}:role/keyshift-local-operator-b`,
} as const;

/**
 * The audit archive's bucket: Object Lock in COMPLIANCE mode for 90 days, and the bucket policy
 * keyshift deploys (infra/audit-archive.cjs) — no put without If-None-Match, no deletes.
 */
export const LOCAL_AUDIT_ARCHIVE_BUCKET = "keyshift-local-audit-archive";

export const LOCAL_TOPIC_ARN = `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:keyshift-local-alerts`;
export const ADMIN_SECRET_PREFIX = "keyshift/admin/";

/**
 * keyshift's own role in the local stack: the handlers, the CLI and the scenario's operator all sign
 * with a session of it (on AWS each function has its own role and the operator another). It is the
 * one keyshift reader of every read policy (KEYSHIFT_READER_ROLE_ARNS).
 */
export const LOCAL_KEYSHIFT_ROLE_ARN = `arn:aws:iam::${LOCAL_ACCOUNT}:role/keyshift-local-functions`;

/** ProveDeleted's name in the local Lambda (harness/local/lambda-invoke.ts): the operator API invokes it. */
export const LOCAL_PROVE_DELETED_FUNCTION = "keyshift-local-ProveDeleted";

/** The secrets whose reads are routed to the secret-read handler, as the rule in infra/secret-reads.yml filters them. */
export const READ_TRAIL_PREFIX = "keyshift/exchange/";

/** One GetSecretValue the local "EventBridge rule" delivered, and what the handler made of it. */
export interface SecretReadDelivery {
  secretRef: string;
  callerArn: string;
  denied: boolean;
  outcome?: unknown;
  error?: string;
}

export interface LocalStackOptions {
  seed?: number;
  maxActiveKeys?: number;
  /** On-disk dynalite store (default: in memory). */
  dynamoPath?: string;
  /** Secrets Manager emulator state file (default: in memory). */
  secretsStateFile?: string;
  /** Revocation policy for the steps and the sweeper (defaults suit compressed local runs). */
  revocation?: { maxAttempts: number; baseSeconds: number; capSeconds: number };
  exchangeTimeoutMs?: number;
  /** How long the waiting states of a manual account wait for a person, in real seconds (default 60). */
  manualTaskSeconds?: number;
  /** How much faster than real time the Scheduler emulator's clock runs (default 1). */
  scheduleTimeScale?: number;
}

export interface LocalStack {
  region: string;
  endpoints: {
    dynamodb: string;
    secretsManager: string;
    sns: string;
    sts: string;
    s3: string;
    exchange: string;
    heartbeatApi: string;
    /** The operator API's function URL (KEYSHIFT_OPERATOR_API_URL): POST /commands, signed for `lambda`. */
    operatorApi: string;
    stepFunctions: string;
    scheduler: string;
  };
  /**
   * Operator A and operator B: each a session of its own role, with its ARN as the front door and
   * STS name it. The stack's `env` does not point the CLI at the operator API; a test that wants it
   * sets KEYSHIFT_OPERATOR_API_URL and one of these (`operatorEnv`).
   */
  operators: Record<"a" | "b", LocalCredentials & { arn: string }>;
  /** The environment the handlers read at cold start (also applied to this process). */
  env: Record<string, string>;
  /**
   * Who calls the exchanges from where: keyshift's handlers (every plain `fetch` of this process)
   * leave from `egress`, the simulated trading services from `consumerHost`.
   */
  callers: { egress: string; consumerHost: string };
  tables: TableNames;
  /** keyshift's own test protocol's simulator (most integration tests drive it directly). */
  exchange: ExchangeSimulator;
  /** Every simulated exchange, real protocols included, behind one interface. */
  exchanges: Record<LocalExchangeName, LocalExchange>;
  /** What a person does at an exchange's web UI, for the exchanges where only a person makes keys. */
  webUi: { kraken: WebUi };
  sns: LocalSns;
  /** EventBridge Scheduler: the rotation schedules, firing StartExecution when due. */
  scheduler: LocalScheduler;
  /** The Step Functions API the CLI and the schedules start executions on. */
  stepFunctions: LocalStepFunctionsApi;
  iam: LocalIam;
  /**
   * The audit archive: the local S3 holding the bucket, and the local stream that feeds every write
   * to the audit table to the real auditArchive handler before the writer gets its answer.
   */
  archive: { bucket: string; s3: LocalS3; stream: LocalAuditStream };
  /**
   * Every read of a `keyshift/exchange/` secret, in order, with the secret-read handler's outcome,
   * once the deliveries under way have finished (they run after each read returns, as on AWS).
   */
  secretReads(): Promise<SecretReadDelivery[]>;
  close(): Promise<void>;
}

/**
 * Starts the whole local AWS on free loopback ports, in one call: DynamoDB (dynalite), the
 * Secrets Manager emulator, an SNS alert sink, the simulated exchanges, and the heartbeat function
 * URL with IAM (SigV4) authorization in front of the real `heartbeat` handler. The emulators (Secrets
 * Manager, SNS, the Step Functions API) authenticate every call by the caller's credentials (`iam`)
 * and enforce each role's grant (`iam.grant`); Secrets Manager also enforces read policies, and
 * hands each GetSecretValue of a keyshift
 * secret to the real `secret-read` handler as CloudTrail's event, as the EventBridge rule does.
 *
 * The handlers read their configuration from `process.env` at cold start, exactly as on Lambda,
 * so this sets it before they are first imported. One stack per process.
 */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  // Before any handler loads: the handlers' router speaks only real exchanges unless told otherwise.
  registerKeyshiftSim();
  const closers: Array<() => Promise<void>> = [];
  const reads = secretReadRoute();
  try {
    // keyshift's Lambdas call exchanges from the fixed egress: the real handlers run in this
    // process and build their clients on the global fetch, as on Lambda, so that is what leaves
    // from EGRESS_IP. Put back last (closers run in reverse).
    const restoreFetch = leaveFrom(EGRESS_IP);
    closers.push(async () => restoreFetch());
    const dynamo = await startDynamo({ names: LOCAL_TABLES, path: opts.dynamoPath });
    closers.push(dynamo.close);
    // The audit table's stream: everyone (handlers, CLI, tests) reaches dynalite through its tap.
    let archiveHandler: StreamConsumer | undefined;
    const stream = await startLocalAuditStream({
      dynamoEndpoint: dynamo.endpoint,
      table: LOCAL_TABLES.audit,
      consumer: () => archiveHandler ?? (async () => ({ batchItemFailures: [] })),
    });
    closers.push(stream.close);
    const iam = new LocalIam();
    // keyshift's role is also the operator here (enroll, register, rotate): every Secrets Manager
    // action, publishing alerts, and starting and following executions. Every other role is a
    // workload that may only read (`WORKLOAD_ACTIONS`).
    iam.grant(LOCAL_KEYSHIFT_ROLE_ARN, [
      "secretsmanager:*",
      "sns:Publish",
      "states:StartExecution",
      "states:DescribeExecution",
      "states:SendTaskSuccess",
      "states:SendTaskFailure",
      // the operator API asks ProveDeleted to prove a manual deletion (its one invoke grant on AWS)
      "lambda:InvokeFunction",
      ...SCHEDULER_ACTIONS,
      // the audit archive: the auditArchive function writes, `audit verify` reads and lists
      "s3:PutObject",
      "s3:GetObject",
      "s3:ListBucket",
    ]);
    // The schedules' execution role: it may start executions and nothing else (infra/schedules.cjs).
    iam.grant(LOCAL_SCHEDULER_ROLE_ARN, ["states:StartExecution"]);
    const keyshift = iam.assumeRole(LOCAL_KEYSHIFT_ROLE_ARN, "keyshift-local");
    const sm = await startSecretsManagerEmulator({
      stateFile: opts.secretsStateFile,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      callers: iam,
      onCloudTrailEvent: reads.deliver,
    });
    closers.push(sm.close);
    const sns = await startLocalSns({ callers: iam, region: LOCAL_REGION });
    closers.push(sns.close);
    // Who runs the CLI: GetCallerIdentity on the caller's own credentials, for the audit's actor.
    const sts = await startLocalSts({ callers: iam, region: LOCAL_REGION });
    closers.push(sts.close);
    const s3 = await startLocalS3({
      callers: iam,
      region: LOCAL_REGION,
      buckets: [
        {
          name: LOCAL_AUDIT_ARCHIVE_BUCKET,
          objectLock: { mode: "COMPLIANCE", days: 90 },
          policy: { requireIfNoneMatch: true, denyDeletes: true },
        },
      ],
    });
    closers.push(s3.close);
    const exchange = await startExchangeSimulator({
      seed: opts.seed ?? 1,
      maxActiveKeys: opts.maxActiveKeys ?? 2,
    });
    closers.push(exchange.close);
    const real = await startRealExchangeSimulators(opts.seed ?? 1);
    closers.push(
      real.deribit.close,
      real.bybit.close,
      real.okx.close,
      real.binance.close,
      real.kraken.close,
      real.gate.close,
    );
    const kraken = krakenLocal(real.kraken);
    const exchanges: Record<LocalExchangeName, LocalExchange> = {
      deribit: deribitLocal(real.deribit),
      bybit: bybitLocal(real.bybit),
      okx: okxLocal(real.okx),
      binance: binanceLocal(real.binance),
      kraken,
      gate: gateLocal(real.gate),
      "keyshift-sim": keyshiftSimLocal(exchange),
    };

    // The functions keyshift's functions invoke themselves: ProveDeleted, for the operator API.
    const lambda = await startLocalLambda({
      iam,
      region: LOCAL_REGION,
      functions: {
        [LOCAL_PROVE_DELETED_FUNCTION]: async (event, context) => {
          const { handler } = await import("../../functions/prove-deleted");
          return asFunction("ProveDeleted", () => handler(event, context));
        },
      },
    });
    closers.push(lambda.close);

    const revocation = opts.revocation ?? { maxAttempts: 5, baseSeconds: 1, capSeconds: 4 };
    const env: Record<string, string> = {
      AWS_REGION: LOCAL_REGION,
      // Everything keyshift runs here signs as keyshift's role; the emulator checks the signature.
      AWS_ACCESS_KEY_ID: keyshift.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keyshift.secretAccessKey,
      AWS_SESSION_TOKEN: keyshift.sessionToken,
      KEYSHIFT_READER_ROLE_ARNS: LOCAL_KEYSHIFT_ROLE_ARN,
      KEYSHIFT_TABLE_CONSUMERS: LOCAL_TABLES.consumers,
      KEYSHIFT_TABLE_ROTATIONS: LOCAL_TABLES.rotations,
      KEYSHIFT_TABLE_LEDGER: LOCAL_TABLES.ledger,
      KEYSHIFT_TABLE_AUDIT: LOCAL_TABLES.audit,
      KEYSHIFT_ALERT_TOPIC_ARN: LOCAL_TOPIC_ARN,
      KEYSHIFT_ADMIN_SECRET_PREFIX: ADMIN_SECRET_PREFIX,
      KEYSHIFT_REVOCATION_MAX_ATTEMPTS: String(revocation.maxAttempts),
      KEYSHIFT_REVOCATION_BASE_SECONDS: String(revocation.baseSeconds),
      KEYSHIFT_REVOCATION_CAP_SECONDS: String(revocation.capSeconds),
      KEYSHIFT_EXCHANGE_TIMEOUT_MS: String(opts.exchangeTimeoutMs ?? 2000),
      KEYSHIFT_EGRESS_IPS: EGRESS_IP,
      // A person has this long to answer a manual task here (three days on AWS by default).
      KEYSHIFT_MANUAL_TASK_SECONDS: String(opts.manualTaskSeconds ?? 60),
      KEYSHIFT_ENDPOINT_DYNAMODB: stream.endpoint,
      KEYSHIFT_ENDPOINT_SECRETS_MANAGER: sm.endpoint,
      KEYSHIFT_ENDPOINT_SNS: sns.endpoint,
      KEYSHIFT_ENDPOINT_STS: sts.endpoint,
      KEYSHIFT_ENDPOINT_S3: s3.endpoint,
      KEYSHIFT_ENDPOINT_LAMBDA: lambda.endpoint,
      KEYSHIFT_PROVE_DELETED_FUNCTION: LOCAL_PROVE_DELETED_FUNCTION,
      KEYSHIFT_AUDIT_ARCHIVE_BUCKET: LOCAL_AUDIT_ARCHIVE_BUCKET,
      // Lambda logs go to stdout as JSON; keep local runs readable unless asked for more.
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? "WARN",
    };
    Object.assign(process.env, env);

    const { handler: heartbeat } = await import("../../functions/heartbeat");
    const { handler: secretRead } = await import("../../functions/secret-read");
    const { handler: auditArchive } = await import("../../functions/audit-archive");
    archiveHandler = (event) =>
      asFunction("AuditArchive", () => auditArchive(event, lambdaContext("audit-archive")));
    reads.route((event) => asFunction("SecretRead", () => secretRead(event, lambdaContext("secret-read"))));
    // Closed first (closers run in reverse): deliveries under way finish against live tables.
    closers.push(reads.settle);
    // The heartbeat's function URL: consumers POST <heartbeatApi>/heartbeats, signed for `lambda`.
    const api = await startLocalFunctionUrl({
      iam,
      region: LOCAL_REGION,
      functionName: "heartbeat",
      handler: (event, context) => asFunction("Heartbeat", () => heartbeat(event, context)),
    });
    closers.push(api.close);
    // The Step Functions API the CLI's rotate/resume talk to; executions run in this process. Up
    // before the operator API loads: its deps answer task tokens (keys provide, keys confirm-deleted)
    // on the endpoint its configuration names at cold start.
    const sfn = await startLocalStepFunctionsApi({ waitMs: 300, retryMs: 50, callers: iam });
    closers.push(sfn.close);
    env.KEYSHIFT_ENDPOINT_STEPFUNCTIONS = sfn.endpoint;
    env.KEYSHIFT_STATE_MACHINE_ARN = LOCAL_STATE_MACHINE_ARN;
    process.env.KEYSHIFT_ENDPOINT_STEPFUNCTIONS = sfn.endpoint;
    process.env.KEYSHIFT_STATE_MACHINE_ARN = LOCAL_STATE_MACHINE_ARN;
    // The operator API: the real handler behind the same front door, for the operator roles only.
    // Its approval setting is the stage's default unless the caller set one.
    process.env.KEYSHIFT_APPROVAL_COMMANDS ??= "default";
    const { handler: operatorApi } = await import("../../functions/operator-api");
    const opApi = await startLocalFunctionUrl({
      iam,
      region: LOCAL_REGION,
      functionName: "operator-api",
      handler: (event, context) => asFunction("OperatorApi", () => operatorApi(event, context)),
      requireAction: "lambda:InvokeFunctionUrl",
    });
    closers.push(opApi.close);
    const operators = {
      a: operatorSession(iam, LOCAL_OPERATOR_ROLE_ARNS.a, "operator-a"),
      b: operatorSession(iam, LOCAL_OPERATOR_ROLE_ARNS.b, "operator-b"),
    };
    const scheduler = await startLocalScheduler({
      callers: iam,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      group: LOCAL_SCHEDULE_GROUP,
      stepFunctionsEndpoint: sfn.endpoint,
      timeScale: opts.scheduleTimeScale,
    });
    closers.push(scheduler.close);
    Object.assign(env, {
      KEYSHIFT_ENDPOINT_SCHEDULER: scheduler.endpoint,
      KEYSHIFT_SCHEDULE_GROUP: LOCAL_SCHEDULE_GROUP,
      KEYSHIFT_SCHEDULER_ROLE_ARN: LOCAL_SCHEDULER_ROLE_ARN,
      KEYSHIFT_SCHEDULE_DLQ_ARN: LOCAL_SCHEDULE_DLQ_ARN,
    });
    Object.assign(process.env, env);

    return {
      region: LOCAL_REGION,
      endpoints: {
        dynamodb: stream.endpoint,
        secretsManager: sm.endpoint,
        sns: sns.endpoint,
        sts: sts.endpoint,
        s3: s3.endpoint,
        exchange: exchange.url,
        heartbeatApi: api.url,
        operatorApi: opApi.url,
        stepFunctions: sfn.endpoint,
        scheduler: scheduler.endpoint,
      },
      env,
      callers: { egress: EGRESS_IP, consumerHost: CONSUMER_HOST_IP },
      tables: LOCAL_TABLES,
      exchange,
      exchanges,
      webUi: { kraken: kraken.webUi },
      sns,
      scheduler,
      stepFunctions: sfn,
      iam,
      operators,
      archive: { bucket: LOCAL_AUDIT_ARCHIVE_BUCKET, s3, stream },
      secretReads: async () => {
        await reads.settle();
        return [...reads.delivered];
      },
      close: () => closeAll(closers),
    };
  } catch (err) {
    await closeAll(closers);
    throw err;
  }
}

/** An operator's session: may invoke the operator API and read (the viewer's and operator's policies). */
function operatorSession(
  iam: LocalIam,
  roleArn: string,
  session: string,
): LocalCredentials & { arn: string } {
  iam.grant(roleArn, [
    "lambda:InvokeFunctionUrl",
    "states:DescribeExecution",
    "secretsmanager:DescribeSecret",
  ]);
  const credentials = iam.assumeRole(roleArn, session);
  const arn = iam.lookup(credentials.accessKeyId)?.userArn ?? roleArn;
  return { ...credentials, arn };
}

/** The environment of a CLI run by `operator` through the operator API (the stack's env, the operator's keys). */
export function operatorEnv(stack: LocalStack, operator: LocalCredentials): Record<string, string> {
  return {
    ...stack.env,
    AWS_ACCESS_KEY_ID: operator.accessKeyId,
    AWS_SECRET_ACCESS_KEY: operator.secretAccessKey,
    AWS_SESSION_TOKEN: operator.sessionToken,
    KEYSHIFT_OPERATOR_API_URL: stack.endpoints.operatorApi,
  };
}

async function closeAll(closers: Array<() => Promise<void>>): Promise<void> {
  for (const close of closers.reverse()) await close().catch(() => undefined);
}

/**
 * The local EventBridge rule: GetSecretValue events of `keyshift/exchange/` secrets (by name or ARN)
 * go to the secret-read handler after the read has returned, one at a time per secret (as Lambda
 * would see them arrive, without audit appends racing each other); `settle` waits for them.
 */
function secretReadRoute() {
  const delivered: SecretReadDelivery[] = [];
  const queues = new Map<string, Promise<void>>();
  let handler: ((event: CloudTrailApiCallEvent) => Promise<unknown>) | undefined;
  return {
    delivered,
    route(h: (event: CloudTrailApiCallEvent) => Promise<unknown>) {
      handler = h;
    },
    deliver(event: CloudTrailApiCallEvent): void {
      const params = event.detail.requestParameters as { secretId?: string } | undefined;
      const secretRef = params?.secretId ?? "";
      const route = handler;
      if (
        !route ||
        !(secretRef.startsWith(READ_TRAIL_PREFIX) || secretRef.includes(`:secret:${READ_TRAIL_PREFIX}`))
      )
        return;
      const identity = event.detail.userIdentity as { arn?: string };
      const record: SecretReadDelivery = {
        secretRef,
        callerArn: identity.arn ?? "unknown",
        denied: event.detail.errorCode !== undefined,
      };
      delivered.push(record);
      const next = (queues.get(secretRef) ?? Promise.resolve()).then(async () => {
        try {
          record.outcome = await route(event);
        } catch (err) {
          record.error = (err as Error).name;
        }
      });
      queues.set(secretRef, next);
    },
    async settle(): Promise<void> {
      // A delivery may queue another while this waits: settle until nothing is left under way.
      for (let pending = [...queues.values()]; pending.length > 0; pending = [...queues.values()]) {
        await Promise.all(pending);
        for (const [key, queued] of queues) if (pending.includes(queued)) queues.delete(key);
      }
    },
  };
}
