import { AsyncLocalStorage } from "node:async_hooks";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SNSClient } from "@aws-sdk/client-sns";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/**
 * Which Lambda function (its logical id without `LambdaFunction`, e.g. `BeginRotation`) the code
 * running now belongs to. The local stack sets it around every handler invocation; the recorder
 * reads it to attribute each AWS call. Nothing shipped reads it.
 */
const invocation = new AsyncLocalStorage<string>();

/** Runs `fn` as an invocation of `functionName`: the AWS calls it makes are attributed to it. */
export function asFunction<T>(functionName: string, fn: () => T): T {
  return invocation.run(functionName, fn);
}

/** One AWS API call a function made, as its IAM check sees it: the caller's action on a resource. */
export interface AwsCall {
  functionName: string;
  /** `service:Action`, e.g. `dynamodb:Query`. */
  action: string;
  /** What the call names: a table (with `/index/<name>`), a secret id or ARN, a topic ARN. */
  resource: string;
}

type Send = (this: unknown, command: unknown, ...rest: unknown[]) => unknown;
interface Command {
  constructor: { name: string };
  input?: Record<string, unknown>;
}

const DOC_ACTIONS: Record<string, string> = {
  Get: "GetItem",
  Put: "PutItem",
  Update: "UpdateItem",
  Delete: "DeleteItem",
  BatchGet: "BatchGetItem",
  BatchWrite: "BatchWriteItem",
  TransactGet: "TransactGetItems",
  TransactWrite: "TransactWriteItems",
};

/** The (action, resource) pairs IAM authorizes a call by; one call may name several tables. */
function callsOf(service: string, command: Command): Array<{ action: string; resource: string }> {
  const name = command.constructor.name.replace(/Command$/, "");
  const input = command.input ?? {};
  if (service === "dynamodb") {
    const action = `dynamodb:${DOC_ACTIONS[name] ?? name}`;
    if (input.RequestItems && typeof input.RequestItems === "object")
      return Object.keys(input.RequestItems).map((table) => ({ action, resource: table }));
    if (Array.isArray(input.TransactItems)) {
      // IAM checks each item's own action (Put → PutItem…) on its table.
      return (input.TransactItems as Array<Record<string, { TableName?: string }>>).flatMap((item) =>
        Object.entries(item).map(([kind, op]) => ({
          action: `dynamodb:${kind === "ConditionCheck" ? "ConditionCheckItem" : `${kind}Item`}`,
          resource: String(op.TableName),
        })),
      );
    }
    const table = String(input.TableName);
    return [{ action, resource: input.IndexName ? `${table}/index/${String(input.IndexName)}` : table }];
  }
  if (service === "s3") {
    // IAM authorizes ListObjectsV2 as s3:ListBucket on the bucket, the object calls on bucket/key.
    const bucket = String(input.Bucket);
    if (name === "ListObjectsV2") return [{ action: "s3:ListBucket", resource: bucket }];
    return [{ action: `s3:${name}`, resource: `${bucket}/${String(input.Key)}` }];
  }
  if (service === "scheduler") {
    // IAM authorizes ListSchedules on no resource ("*"); the schedule calls on schedule/<group>/<name>.
    if (name === "ListSchedules") return [{ action: "scheduler:ListSchedules", resource: "*" }];
    const group = String(input.GroupName ?? "default");
    return [{ action: `scheduler:${name}`, resource: `schedule/${group}/${String(input.Name)}` }];
  }
  if (service === "secretsmanager")
    return [{ action: `secretsmanager:${name}`, resource: String(input.SecretId ?? input.Name ?? "*") }];
  return [{ action: `sns:${name}`, resource: String(input.TopicArn ?? input.TargetArn ?? "*") }];
}

let recording: AwsCall[] | undefined;

/**
 * Records, from now until `stop`, every call a function's code sends through the AWS SDK clients
 * keyshift uses (DynamoDB, Secrets Manager, SNS, S3, Scheduler), attributed by `asFunction`. Calls made outside any
 * function (the test's own setup, the CLI, consumers) are not recorded. One recording at a time.
 */
export function recordAwsCalls(): { calls: AwsCall[]; stop: () => void } {
  if (recording) throw new Error("already recording AWS calls");
  const calls: AwsCall[] = [];
  recording = calls;
  const clients: Array<[{ prototype: { send: Send } }, string]> = [
    [DynamoDBDocumentClient as never, "dynamodb"],
    [DynamoDBClient as never, "dynamodb"],
    [SecretsManagerClient as never, "secretsmanager"],
    [SNSClient as never, "sns"],
    [S3Client as never, "s3"],
    [SchedulerClient as never, "scheduler"],
  ];
  const restores: Array<() => void> = [];
  for (const [client, service] of clients) {
    const proto = client.prototype;
    const own = Object.hasOwn(proto, "send");
    const original = proto.send;
    proto.send = function (this: unknown, command: unknown, ...rest: unknown[]) {
      const functionName = invocation.getStore();
      if (functionName && recording === calls)
        for (const c of callsOf(service, command as Command)) calls.push({ functionName, ...c });
      return original.call(this, command, ...rest);
    };
    restores.push(() => {
      if (own) proto.send = original;
      else delete (proto as { send?: Send }).send;
    });
  }
  return {
    calls,
    stop: () => {
      for (const restore of restores) restore();
      recording = undefined;
    },
  };
}
