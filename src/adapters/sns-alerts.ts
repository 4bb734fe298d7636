import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { logger } from "../commons/logger";
import type { Alert } from "../core/model";
import type { Alerts } from "../core/ports";

/** Alerts to an SNS topic. Subject ≤ 100 chars (SNS limit); the body is the alert as JSON. */
export class SnsAlerts implements Alerts {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}

  async send(alert: Alert): Promise<void> {
    // CloudWatch metric filters count these lines per kind (infra/observability.yml).
    logger.warn("alert raised", { alertKind: alert.kind, secretId: alert.secretId });
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: alert.subject.slice(0, 100),
        Message: JSON.stringify(alert),
        MessageAttributes: {
          kind: { DataType: "String", StringValue: alert.kind },
          secretId: { DataType: "String", StringValue: alert.secretId },
        },
      }),
    );
  }
}
