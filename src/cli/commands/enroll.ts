import { REGISTRATION_BOUNDS } from "../../core/registry-rules";
import { enrollSecret, registerConsumer } from "../../core/use-cases/operator";
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

/** Omitted options come from the entry's `consumer` defaults in the enrollment file. */
function parseRegistration([secretId = ""]: string[], values: OptionValues) {
  const defaults = entryFor(secretIdArg(secretId), stringOption(values, "config")).consumer;
  const consumer = stringOption(values, "consumer");
  const principal = stringOption(values, "principal");
  if (consumer === undefined) throw new UsageError("registering a consumer needs --consumer ID");
  if (principal === undefined) throw new UsageError("registering a consumer needs --principal ROLE_ARN");
  const ttl = stringOption(values, "cache-ttl");
  const interval = stringOption(values, "heartbeat-interval");
  const required = stringOption(values, "required");
  return {
    secretId,
    consumerId: consumerIdArg(consumer, "--consumer"),
    principalArn: principalArg(principal),
    cacheTtlSeconds:
      ttl === undefined
        ? defaults.cacheTtlSeconds
        : wholeNumber("--cache-ttl", ttl, REGISTRATION_BOUNDS.cacheTtlSeconds),
    heartbeatIntervalSeconds:
      interval === undefined
        ? defaults.heartbeatIntervalSeconds
        : wholeNumber("--heartbeat-interval", interval, REGISTRATION_BOUNDS.heartbeatIntervalSeconds),
    required: required === undefined ? defaults.required : booleanWord("--required", required),
  };
}

type Registration = ReturnType<typeof parseRegistration>;

async function runRegistration({ deps, out, actor }: CommandContext, consumer: Registration) {
  const registered = await registerConsumer(consumer, actor, deps);
  out.result(
    `registered ${registered.consumerId} for ${registered.secretId} as ${registered.principalArn}`,
    registered,
  );
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
