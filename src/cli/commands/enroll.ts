import { REGISTRATION_BOUNDS } from "../../core/consumers/registry-rules";
import type { ConsumerRegistration } from "../../core/model";
import { enrollSecret, registerConsumer } from "../../core/operator/operator";
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

/** `enroll <secretId>`: the entry's settings from the enrollment file, the current fingerprint recorded. */
export const enroll = command({
  words: ["enroll"],
  args: ["<secretId>"],
  options: ["config"],
  parse([secretId = ""], values) {
    const {
      schedule,
      enabled,
      consumer: _c,
      ...settings
    } = entryFor(secretIdArg(secretId), stringOption(values, "config"));
    // The schedule travels with the settings so the hygiene audit can tell an overdue rotation.
    return { ...settings, schedule, scheduleEnabled: enabled };
  },
  async run({ deps, out, actor }, settings) {
    const enrolled = await enrollSecret(settings, actor, deps);
    out.result(`enrolled ${enrolled.secretId} (account ${enrolled.exchangeAccount})`, enrolled);
    return 0;
  },
});

/**
 * Omitted options keep what the consumer is registered with; for a consumer not registered yet
 * they come from the entry's `consumer` defaults in the enrollment file. (Filling them from the
 * defaults for a registered consumer would change settings nobody asked to change: an omitted
 * `--required` would make a required consumer optional.)
 */
function parseRegistration([secretId = ""]: string[], values: OptionValues) {
  const defaults = entryFor(secretIdArg(secretId), stringOption(values, "config")).consumer;
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
