import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { loadConfig } from "../commons/config";
import { buildDeps } from "../commons/deps";
import { verifyAuditTrail } from "../core/audit-chain";
import { KeyshiftError } from "../core/errors";
import { lockStatus } from "../core/lock";
import { evaluateReadiness } from "../core/readiness";
import {
  enrollSecret,
  forceRevoke,
  registerConsumer,
  requeueRevocation,
  rollback,
} from "../core/use-cases/operator";

type EnrollmentModule = typeof import("../../infra/enrollment.cjs");
/** The same validator `serverless package` runs, so the schedule and the stored settings agree. */
const enrollment = createRequire(import.meta.url)("../../infra/enrollment.cjs") as EnrollmentModule;

const USAGE = `keyshift — consumer-aware rotation of exchange API keys

usage: keyshift <command> [args] [--json]
  enroll <secretId> [--config rotation.config.yml]
                                 record the entry's settings and the current fingerprint
  register-consumer <secretId> --consumer ID --principal ROLE_ARN
        [--cache-ttl S] [--heartbeat-interval S] [--required true|false]
                                 register a consumer (defaults from the entry's consumer block)
  rotate <secretId> [--wait]     start a rotation (Step Functions StartExecution, trigger "manual");
                                 --wait polls until it ends (exit 0 succeeded, 2 stalled, 1 failed)
  resume <secretId> [--wait]     resume a stalled rotation (new execution, mode "resume")
  status <secretId>              versions, lock, consumers (who lags, on which fingerprint), ledger
  audit verify <secretId>        recompute the audit hash chain
  revocations list               every ledger entry (pending / revoked / failed, needs operator)
  revocations retry <entryId>    put a flagged entry back in the sweeper's queue
  force-revoke <secretId> --reason "..."   revoke the previous key now (stalled rotation only)
  rollback <secretId> --reason "..."       move AWSCURRENT back while the previous key is valid

Environment: the same KEYSHIFT_* variables the Lambdas read (see src/commons/config.ts), plus
KEYSHIFT_STATE_MACHINE_ARN for rotate/resume and KEYSHIFT_ACTOR (defaults to $USER) for the audit.`;

type Out = (human: string, machine: unknown) => void;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      reason: { type: "string" },
      help: { type: "boolean" },
      config: { type: "string" },
      consumer: { type: "string" },
      principal: { type: "string" },
      "cache-ttl": { type: "string" },
      "heartbeat-interval": { type: "string" },
      required: { type: "string" },
      wait: { type: "boolean", default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 64;
  }
  const out: Out = (human, machine) =>
    process.stdout.write(`${values.json ? JSON.stringify(machine) : human}\n`);
  const actor = `operator:${process.env.KEYSHIFT_ACTOR ?? process.env.USER ?? "unknown"}`;
  const need = (what: string, value: string | undefined): string => {
    if (!value) throw new UsageError(`${command} needs ${what}`);
    return value;
  };
  const deps = buildDeps(loadConfig());

  const entryFor = (secretId: string) => {
    const config = enrollment.loadEnrollment(values.config ?? enrollment.DEFAULT_CONFIG_PATH);
    const entry = config.secrets.find((s) => s.secretId === secretId);
    if (!entry) {
      throw new UsageError(
        `${secretId} is not in ${values.config ?? "rotation.config.yml"}: add it there first`,
      );
    }
    return entry;
  };
  const seconds = (flag: string, value: string | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) {
      throw new UsageError(`--${flag} must be a positive whole number of seconds, got "${value}"`);
    }
    return n;
  };

  switch (command) {
    case "enroll": {
      const secretId = need("a secret id", rest[0]);
      const { schedule: _s, enabled: _e, consumer: _c, ...settings } = entryFor(secretId);
      const enrolled = await enrollSecret(settings, actor, deps);
      out(`enrolled ${secretId} (account ${enrolled.exchangeAccount})`, enrolled);
      return 0;
    }
    case "register-consumer": {
      const secretId = need("a secret id", rest[0]);
      const defaults = entryFor(secretId).consumer;
      if (values.required !== undefined && !["true", "false"].includes(values.required)) {
        throw new UsageError(`--required must be true or false, got "${values.required}"`);
      }
      const registration = await registerConsumer(
        {
          secretId,
          consumerId: need("--consumer", values.consumer),
          principalArn: need("--principal", values.principal),
          cacheTtlSeconds: seconds("cache-ttl", values["cache-ttl"], defaults.cacheTtlSeconds),
          heartbeatIntervalSeconds: seconds(
            "heartbeat-interval",
            values["heartbeat-interval"],
            defaults.heartbeatIntervalSeconds,
          ),
          required: values.required === undefined ? defaults.required : values.required === "true",
        },
        actor,
        deps,
      );
      out(
        `registered ${registration.consumerId} for ${secretId} as ${registration.principalArn}`,
        registration,
      );
      return 0;
    }
    case "rotate":
    case "resume": {
      const secretId = need("a secret id", rest[0]);
      const stateMachineArn = need(
        "KEYSHIFT_STATE_MACHINE_ARN in the environment",
        process.env.KEYSHIFT_STATE_MACHINE_ARN,
      );
      // KEYSHIFT_ENDPOINT_STEPFUNCTIONS is set only by the local stack.
      const sfn = new SFNClient({
        region: process.env.AWS_REGION,
        endpoint: process.env.KEYSHIFT_ENDPOINT_STEPFUNCTIONS,
      });
      const input = { secretId, trigger: "manual", mode: command === "resume" ? "resume" : "rotate" };
      const started = await sfn.send(
        new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }),
      );
      if (!values.wait) {
        out(`started ${started.executionArn}`, { executionArn: started.executionArn, input });
        return 0;
      }
      // Progress goes to stderr so that --json leaves exactly one object on stdout.
      process.stderr.write(`started ${started.executionArn}; waiting`);
      for (;;) {
        const execution = await sfn.send(
          new DescribeExecutionCommand({ executionArn: started.executionArn }),
        );
        if (execution.status !== "RUNNING") {
          process.stderr.write("\n");
          const result = {
            executionArn: started.executionArn,
            status: execution.status,
            error: execution.error,
            cause: execution.cause,
            output: execution.output ? JSON.parse(execution.output) : undefined,
          };
          out(
            execution.status === "SUCCEEDED"
              ? `rotation of ${secretId} succeeded`
              : `rotation of ${secretId} ${execution.status}: ${execution.error} — ${execution.cause ?? ""}`,
            result,
          );
          if (execution.status === "SUCCEEDED") return 0;
          return execution.error === "RotationStalled" || execution.error === "RotationParked" ? 2 : 1;
        }
        process.stderr.write(".");
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    }
    case "status": {
      const secretId = need("a secret id", rest[0]);
      const [settings, versions, lock, consumers, instances, ledger] = await Promise.all([
        deps.store.getSettings(secretId),
        deps.store.getVersions(secretId),
        deps.lock.get(secretId),
        deps.consumers.listConsumers(secretId),
        deps.consumers.listInstances(secretId),
        deps.ledger.listAll(),
      ]);
      if (!settings) throw new UsageError(`secret ${secretId} is not enrolled`);
      const readiness = versions?.current
        ? evaluateReadiness({
            consumers,
            instances,
            currentFingerprint: versions.current.fingerprint,
            promotedAt: new Date(versions.promotedAt ?? 0),
            settings,
            now: new Date(),
          })
        : undefined;
      const mine = ledger.filter((e) => e.secretId === secretId);
      const holder = lock ? await deps.store.getRotation(secretId, lock.rotationId) : undefined;
      const lockState = lockStatus(lock, holder, new Date());
      const status = {
        secretId,
        versions,
        lock,
        lockState,
        consumers: consumers.length,
        readiness,
        ledger: mine,
      };
      out(
        [
          `secret ${secretId} (exchange account ${settings.exchangeAccount})`,
          `  current  ${versions?.current?.fingerprint ?? "-"} key ${versions?.current?.exchangeKeyId ?? "-"}`,
          `  previous ${versions?.previous?.fingerprint ?? "-"} key ${versions?.previous?.exchangeKeyId ?? "-"}`,
          `  lock     ${lockState.summary}${lockState.next ? `\n           next: ${lockState.next}` : ""}`,
          `  consumers ${consumers.length}; lagging: ${readiness?.lagging.map((l) => `${l.consumerId} (${l.reason} ${l.fingerprints.join(",")})`).join("; ") || "none"}`,
          ...mine.map(
            (e) =>
              `  ledger ${e.entryId}: ${e.status}, ${e.attempts} attempt(s)${e.needsOperator ? ", NEEDS OPERATOR" : ""}${e.breakGlass ? `, break-glass by ${e.breakGlass.actor}` : ""}${e.heldReason && e.status !== "revoked" ? `, held: ${e.heldReason}` : ""}${e.lastError ? `, last error: ${e.lastError}` : ""}`,
          ),
        ].join("\n"),
        status,
      );
      return 0;
    }
    case "audit": {
      if (rest[0] !== "verify") throw new UsageError("usage: keyshift audit verify <secretId>");
      const secretId = need("a secret id", rest[1]);
      // The head first: an append while this runs then only adds entries past it.
      const head = await deps.audit.head(secretId);
      const entries = await deps.audit.list(secretId);
      if (!head && entries.length === 0) throw new Error(`no audit trail for ${secretId}`);
      const result = verifyAuditTrail(entries, head);
      const pending = result.pending
        ? ` (entry ${result.pending} verified from the head: an append was interrupted; the next one stores it)`
        : "";
      out(
        result.ok
          ? `audit trail of ${secretId}: ${result.entries} entries up to its head, chain verifies${pending}`
          : `audit trail of ${secretId} BROKEN at seq ${result.brokenAt?.seq}: ${result.brokenAt?.reason}`,
        { secretId, ...result },
      );
      return result.ok ? 0 : 3;
    }
    case "revocations": {
      if (rest[0] === "list") {
        const entries = await deps.ledger.listAll();
        out(
          entries
            .map(
              (e) =>
                `${e.entryId}\t${e.status}\t${e.attempts}\t${e.needsOperator ? "needs-operator" : ""}\t${e.lastError ?? ""}`,
            )
            .join("\n") || "ledger is empty",
          entries,
        );
        return 0;
      }
      if (rest[0] === "retry") {
        const entry = await requeueRevocation({ entryId: need("a ledger entry id", rest[1]), actor }, deps);
        out(`requeued ${entry.entryId}; the sweeper retries it on its next run`, entry);
        return 0;
      }
      throw new UsageError("usage: keyshift revocations list | retry <entryId>");
    }
    case "force-revoke":
    case "rollback": {
      const secretId = need("a secret id", rest[0]);
      const reason = need("--reason", values.reason);
      // One id per invocation: the operator hold's owner, so a concurrent command is refused.
      const operation = `op-${randomUUID()}`;
      const result =
        command === "force-revoke"
          ? await forceRevoke({ secretId, actor, reason, operation }, deps)
          : await rollback({ secretId, actor, reason, operation }, deps);
      out(`${command} done: ${JSON.stringify(result)}`, result);
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

class UsageError extends Error {}

/** How often `--wait` asks for the execution's status. */
const POLL_MS = Number(process.env.KEYSHIFT_POLL_MS ?? 2000);

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    const usage = err instanceof UsageError;
    process.stderr.write(
      `keyshift: ${err instanceof KeyshiftError ? `${err.name}: ` : ""}${err.message}\n${usage ? "run `keyshift --help`\n" : ""}`,
    );
    process.exit(usage ? 64 : 1);
  },
);
