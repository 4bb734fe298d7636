import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import type { Alert } from "../core/model";
import type { Alerts } from "../core/ports";

/**
 * What the adapter logs with. The composition root passes the service logger; the alarms of
 * infra/observability.yml count the `"alert raised"` line by `alertKind`.
 */
export interface AlertLog {
  warn(message: string, fields: { alertKind: string; secretId: string }): void;
}

/**
 * SNS Publish rejects a Subject that is not "ASCII text that begins with a letter, number or
 * punctuation mark", has a line break or control character, or is not less than 100 characters long.
 */
export const SUBJECT_MAX_LENGTH = 99;
const FALLBACK_SUBJECT = "keyshift alert";
const ELLIPSIS = "...";

/**
 * A subject SNS accepts, whatever the alert's subject holds (a secret id from the config, a
 * consumer id, an exchange key id): accents dropped (`é` → `e`), every other character outside
 * printable ASCII and every run of whitespace, line breaks included, made one space; cut to
 * {@link SUBJECT_MAX_LENGTH} with `...`. The full subject is still in the message body.
 */
export function snsSubject(subject: string): string {
  const ascii = subject
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .replace(/[^\x21-\x7e]+/g, " ")
    .trim();
  if (ascii === "") return FALLBACK_SUBJECT;
  if (ascii.length <= SUBJECT_MAX_LENGTH) return ascii;
  return `${ascii.slice(0, SUBJECT_MAX_LENGTH - ELLIPSIS.length).trimEnd()}${ELLIPSIS}`;
}

/** Alerts to an SNS topic: the subject made valid for SNS ({@link snsSubject}), the body the alert as JSON. */
export class SnsAlerts implements Alerts {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
    private readonly log: AlertLog,
  ) {}

  async send(alert: Alert): Promise<void> {
    // CloudWatch metric filters count these lines per kind (infra/observability.yml).
    this.log.warn("alert raised", { alertKind: alert.kind, secretId: alert.secretId });
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: snsSubject(alert.subject),
        Message: JSON.stringify(alert),
        MessageAttributes: {
          kind: { DataType: "String", StringValue: alert.kind },
          secretId: { DataType: "String", StringValue: alert.secretId },
        },
      }),
    );
  }
}

/** The adapter with its own client: for compositions that load SNS only when an alert is raised. */
export function snsAlerts(opts: {
  region: string;
  endpoint?: string;
  topicArn: string;
  log: AlertLog;
}): SnsAlerts {
  return new SnsAlerts(
    new SNSClient({ region: opts.region, endpoint: opts.endpoint }),
    opts.topicArn,
    opts.log,
  );
}
