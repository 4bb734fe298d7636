import type { Deps } from "../deps";
import type { ReaderAlertLog, ReadHistory } from "../ports";
import { principalKey } from "../principal";
import type { ReadPolicyDeps } from "../read-policy/sync";
import { judgeReadNovelty } from "./read-anomaly";

/** One `GetSecretValue` call as CloudTrail recorded it (parsed by `commons/secret-read-event.ts`). */
export interface SecretRead {
  /** `SecretId` as the caller passed it: a name, a full ARN or a partial ARN. */
  secretRef: string;
  /** The caller's principal: the role behind a session (`sessionIssuer.arn`), or the user's ARN. */
  principalArn: string;
  /** Who exactly: the session ARN (`assumed-role/ROLE/SESSION`) or the user's ARN. */
  callerArn: string;
  /** CloudTrail's `eventTime`. */
  at: string;
  eventId: string;
  /** The call was refused (`errorCode` AccessDenied): worth an alert all the same. */
  denied: boolean;
}

export type ReaderKind = "keyshift" | "consumer" | "unregistered";

export type SecretReadOutcome =
  | { recorded: false; reason: "not-enrolled" | "before-enrollment"; secretRef: string }
  | {
      recorded: true;
      secretId: string;
      principalArn: string;
      reader: ReaderKind;
      consumerId?: string;
      denied: boolean;
      alerted: boolean;
    };

type ReadDeps = Pick<Deps, "store" | "consumers" | "audit" | "alerts" | "clock"> &
  Pick<ReadPolicyDeps, "keyshiftReaders"> & { readerAlerts: ReaderAlertLog; readHistory: ReadHistory };

/** Secrets Manager appends `-` and six characters to a secret's name in its ARN. */
const ARN_SUFFIX = /-[A-Za-z0-9]{6}$/;

/** The secret names a SecretId may stand for: the name itself, or a full or partial ARN's name. */
function candidateNames(secretRef: string): string[] {
  const at = secretRef.indexOf(":secret:");
  if (!secretRef.startsWith("arn:") || at < 0) return [secretRef];
  const name = secretRef.slice(at + ":secret:".length);
  return ARN_SUFFIX.test(name) ? [name.replace(ARN_SUFFIX, ""), name] : [name];
}

const wholeSecond = (iso: string | undefined): number => Math.floor(Date.parse(iso ?? "") / 1000) * 1000;

/** The registry's key for a principal; principals it has no key for (root, services) stay as given. */
function readerKey(arn: string): string {
  try {
    return principalKey(arn);
  } catch {
    return arn;
  }
}

/**
 * Record one read of an enrolled secret ("every credential read is logged") and alert on a reader
 * the gate does not know.
 *
 * Input: a `GetSecretValue` from CloudTrail. Output: who read, as what, and whether an alert went out.
 * 1. Find the enrolled secret the SecretId names; a secret that is not enrolled, or a served read
 *    from before its first enrollment, is not keyshift's to judge.
 * 2. Classify the principal: one of keyshift's own readers, a registered consumer, or unregistered.
 * 3. Audit the read (or the refused read) with the caller, the principal and CloudTrail's time and id.
 * 4. A served read by anyone but keyshift: into the principal's read history; more than five
 *    secrets it had not read for 30 days within an hour is alerted once (`read-anomaly.ts`).
 * 5. Unregistered: claim today's alert for (secret, principal) and, when this call owns it, send it
 *    and confirm. A failed send is rethrown with the claim unconfirmed, so the retry sends it.
 */
export async function recordSecretRead(read: SecretRead, deps: ReadDeps): Promise<SecretReadOutcome> {
  let secretId: string | undefined;
  let enrolledAt: string | undefined;
  for (const name of candidateNames(read.secretRef)) {
    const settings = await deps.store.getSettings(name);
    if (settings) {
      secretId = name;
      enrolledAt = settings.enrolledAt;
      break;
    }
  }
  if (!secretId) return { recorded: false, reason: "not-enrolled", secretRef: read.secretRef };
  // CloudTrail delivers minutes late: the read that first enrollment makes (the operator's, before
  // any read policy existed) arrives once the secret is enrolled. A served read from before
  // enrollment is not keyshift's to judge; a refused one means a read policy was already there.
  // CloudTrail's times are whole seconds, so the second of the enrollment counts as before it.
  if (!read.denied && Date.parse(read.at) < wholeSecond(enrolledAt) + 1000) {
    return { recorded: false, reason: "before-enrollment", secretRef: read.secretRef };
  }

  const principal = readerKey(read.principalArn);
  let reader: ReaderKind = "unregistered";
  let consumerId: string | undefined;
  if (deps.keyshiftReaders.some((r) => readerKey(r) === principal)) reader = "keyshift";
  else {
    const [consumer] = await deps.consumers.findByPrincipal(principal, secretId);
    if (consumer) {
      reader = "consumer";
      consumerId = consumer.consumerId;
    }
  }

  await deps.audit.append({
    secretId,
    actor: read.callerArn,
    action: read.denied ? "secret-read-denied" : "secret-read",
    details: {
      principalArn: principal,
      reader,
      consumerId: consumerId ?? null,
      eventTime: read.at,
      eventId: read.eventId,
    },
  });
  // CloudTrail's time of the read (the clock's when it is not a date): the anomaly window and the alert's day.
  const at = Number.isNaN(Date.parse(read.at)) ? deps.clock.now() : new Date(read.at);
  // Served reads only: a refused read returned nothing. keyshift's own readers are not judged.
  if (reader !== "keyshift" && !read.denied) {
    await judgeReadNovelty(deps, { principal, secretId, at }, deps.clock.now());
  }
  if (reader !== "unregistered") {
    return {
      recorded: true,
      secretId,
      principalArn: principal,
      reader,
      consumerId,
      denied: read.denied,
      alerted: false,
    };
  }

  const claimed = await alertUnregistered(deps, read, { secretId, principal, at });
  return { recorded: true, secretId, principalArn: principal, reader, denied: read.denied, alerted: claimed };
}

/** Today's unregistered-reader alert for (secret, principal), once: claim, send, confirm. */
async function alertUnregistered(
  deps: Pick<ReadDeps, "readerAlerts" | "alerts" | "clock">,
  read: SecretRead,
  { secretId, principal, at }: { secretId: string; principal: string; at: Date },
): Promise<boolean> {
  const now = deps.clock.now();
  const day = at.toISOString().slice(0, 10);
  const claimed = await deps.readerAlerts.claim(secretId, principal, day, now);
  if (claimed) {
    await deps.alerts.send({
      kind: "unregistered-reader",
      secretId,
      subject: `keyshift: ${read.denied ? "refused read of" : "read of"} ${secretId} by unregistered ${principal}`,
      details: {
        principalArn: principal,
        callerArn: read.callerArn,
        eventTime: read.at,
        eventId: read.eventId,
        denied: read.denied,
        fix: `find out why it reads; if it should: keyshift register-consumer ${secretId} --consumer <id> --principal ${principal}`,
      },
    });
    await deps.readerAlerts.confirm(secretId, principal, day, now);
  }
  return claimed;
}
