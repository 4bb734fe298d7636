import { postProvisioningRecord } from "../../adapters/provisioning-webhook";
import { REGISTRATION_BOUNDS } from "../../core/consumers/registry-rules";
import { declaredSettings } from "../../core/enrollment/plan";
import { rotationScheduleFor, scheduleChanges } from "../../core/enrollment/schedule-spec";
import type { ConsumerRegistration } from "../../core/model";
import { putSchedule } from "../../core/operator/apply";
import { enrollSecret, registerConsumer } from "../../core/operator/operator";
import { provisioningRecord } from "../../core/operator/provisioning";
import {
  booleanWord,
  consumerIdArg,
  type OptionName,
  type OptionValues,
  principalArg,
  secretIdArg,
  stringOption,
  UsageError,
  wholeNumber,
} from "../args";
import { type CommandContext, command } from "../command";
import { entryFor } from "../enrollment";
import { scheduleContext } from "../schedules";

/**
 * `enroll <secretId> [--purpose "..."] [--ticket REF]`: the entry's settings from the enrollment file,
 * the current fingerprint recorded, its rotation schedule created (or brought to the entry) on
 * EventBridge Scheduler at once, and the provisioning record (who, what for, which ticket) in the
 * audit — and posted to KEYSHIFT_PROVISIONING_WEBHOOK_URL when it is set.
 */
export const enroll = command({
  words: ["enroll"],
  args: ["<secretId>"],
  options: ["config", "purpose", "ticket"],
  parse([secretId = ""], values, files) {
    const entry = entryFor(secretIdArg(secretId), stringOption(values, "config"), files);
    const purpose = boundedText(stringOption(values, "purpose"), "--purpose", 500);
    const ticket = boundedText(stringOption(values, "ticket"), "--ticket", 200);
    return {
      entry,
      settings: declaredSettings(entry),
      request: { ...(purpose ? { purpose } : {}), ...(ticket ? { ticket } : {}) },
    };
  },
  async run({ deps, out, actor, env }, { entry, settings, request }) {
    // Before anything is written: a stage without its schedule group fails here, naming the output.
    const scheduling = await scheduleContext(env, "enroll");
    let enrolled: Awaited<ReturnType<typeof enrollSecret>>;
    let scheduled: string;
    try {
      enrolled = await enrollSecret(settings, actor, deps, request);
      const declared = rotationScheduleFor(entry, scheduling.deployment);
      const deployed = await scheduling.schedules.get(declared.name);
      scheduled = declared.name;
      if (!deployed || scheduleChanges(deployed, declared).length > 0) {
        const to = { schedules: scheduling.schedules, audit: deps.audit };
        await putSchedule(entry.secretId, declared, actor, to, deployed ? "update" : "create");
      }
    } finally {
      scheduling.close();
    }
    const done = `enrolled ${enrolled.secretId} (account ${enrolled.exchangeAccount}), schedule ${scheduled}`;
    const webhook = env.KEYSHIFT_PROVISIONING_WEBHOOK_URL;
    if (!webhook) {
      out.result(done, enrolled);
      return 0;
    }
    const scope = (await deps.store.getVersions(enrolled.secretId))?.current?.permissions ?? [];
    const record = provisioningRecord(enrolled, {
      requestedBy: actor,
      ...request,
      scope,
      at: deps.clock.now(),
    });
    try {
      const { status } = await postProvisioningRecord(webhook, record);
      await deps.audit.append({
        secretId: enrolled.secretId,
        actor,
        action: "provisioning-record-sent",
        details: { idempotencyKey: record.idempotencyKey, status },
      });
      out.result(`${done}; provisioning record sent (HTTP ${status})`, { ...enrolled, provisioning: record });
      return 0;
    } catch (err) {
      const why = (err as Error).message;
      await deps.audit.append({
        secretId: enrolled.secretId,
        actor,
        action: "provisioning-record-failed",
        details: { idempotencyKey: record.idempotencyKey, error: why },
      });
      return out.outcome(
        `${done}, but the provisioning record was NOT sent: ${why}; run the same enroll again (idempotent; the receiver dedupes on ${record.idempotencyKey})`,
        { ...enrolled, provisioning: record, provisioningError: why },
        1,
      );
    }
  },
});

function boundedText(value: string | undefined, option: string, max: number): string | undefined {
  const text = value?.trim();
  if (text === undefined || text === "") return undefined;
  if (text.length > max) throw new UsageError(`${option} is at most ${max} characters, got ${text.length}`);
  return text;
}

/**
 * Omitted options keep what the consumer is registered with; for a consumer not registered yet
 * they come from the entry's `consumer` defaults in the enrollment file. (Filling them from the
 * defaults for a registered consumer would change settings nobody asked to change: an omitted
 * `--required` would make a required consumer optional.)
 */
function parseRegistration(
  [secretId = ""]: string[],
  values: OptionValues,
  files?: Readonly<Record<string, string>>,
) {
  const defaults = entryFor(secretIdArg(secretId), stringOption(values, "config"), files).consumer;
  const consumer = stringOption(values, "consumer");
  const principal = stringOption(values, "principal");
  if (consumer === undefined) throw new UsageError("registering a consumer needs --consumer ID");
  if (principal === undefined) throw new UsageError("registering a consumer needs --principal ROLE_ARN");
  const ttl = stringOption(values, "cache-ttl");
  const interval = stringOption(values, "heartbeat-interval");
  const required = stringOption(values, "required");
  const given: Partial<Settings> = {
    ...(ttl === undefined
      ? {}
      : { cacheTtlSeconds: wholeNumber("--cache-ttl", ttl, REGISTRATION_BOUNDS.cacheTtlSeconds) }),
    ...(interval === undefined
      ? {}
      : {
          heartbeatIntervalSeconds: wholeNumber(
            "--heartbeat-interval",
            interval,
            REGISTRATION_BOUNDS.heartbeatIntervalSeconds,
          ),
        }),
    ...(required === undefined ? {} : { required: booleanWord("--required", required) }),
  };
  return {
    secretId,
    consumerId: consumerIdArg(consumer, "--consumer"),
    principalArn: principalArg(principal),
    given,
    defaults: {
      cacheTtlSeconds: defaults.cacheTtlSeconds,
      heartbeatIntervalSeconds: defaults.heartbeatIntervalSeconds,
      required: defaults.required,
    },
  };
}

type Settings = Pick<ConsumerRegistration, "cacheTtlSeconds" | "heartbeatIntervalSeconds" | "required">;
type Registration = ReturnType<typeof parseRegistration>;

/** The registration to store: given flags, else the registered consumer's settings, else the defaults. */
export function registrationFromFlags(
  parsed: Registration,
  registered: Settings | undefined,
): Omit<ConsumerRegistration, "registeredAt"> {
  const base = registered ?? parsed.defaults;
  return {
    secretId: parsed.secretId,
    consumerId: parsed.consumerId,
    principalArn: parsed.principalArn,
    cacheTtlSeconds: parsed.given.cacheTtlSeconds ?? base.cacheTtlSeconds,
    heartbeatIntervalSeconds: parsed.given.heartbeatIntervalSeconds ?? base.heartbeatIntervalSeconds,
    required: parsed.given.required ?? base.required,
  };
}

async function runRegistration({ deps, out, actor }: CommandContext, parsed: Registration) {
  const registered = (await deps.consumers.listConsumers(parsed.secretId)).find(
    (c) => c.consumerId === parsed.consumerId,
  );
  const stored = await registerConsumer(registrationFromFlags(parsed, registered), actor, deps);
  out.result(`registered ${stored.consumerId} for ${stored.secretId} as ${stored.principalArn}`, stored);
  return 0;
}

const REGISTRATION_OPTIONS: OptionName[] = [
  "consumer",
  "principal",
  "cache-ttl",
  "heartbeat-interval",
  "required",
  "config",
];

/** `register-consumer <secretId> --consumer ID --principal ARN ...`; `consumers register` is the same. */
export const registerConsumerCommand = command({
  words: ["register-consumer"],
  args: ["<secretId>"],
  options: REGISTRATION_OPTIONS,
  parse: parseRegistration,
  run: runRegistration,
});
export const consumersRegister = command({ ...registerConsumerCommand, words: ["consumers", "register"] });
