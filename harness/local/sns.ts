import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface PublishedMessage {
  topicArn: string;
  subject?: string;
  message: string;
  attributes: Record<string, string>;
  at: string;
}

export interface LocalSns {
  endpoint: string;
  messages(): PublishedMessage[];
  close(): Promise<void>;
}

/**
 * SNS Publish's Subject rules: it must begin with a letter, number or punctuation mark, have no
 * line break or control character, and be less than 100 characters long.
 */
function invalidSubject(subject: string): string | undefined {
  if (subject.length >= 100) return `${subject.length} characters, must be less than 100`;
  if (/\p{Cc}/u.test(subject)) return "line break or control character";
  // ASCII punctuation in the POSIX sense: Unicode files `$`, `+`, `<` ... under symbols (S).
  if (!/^[\p{L}\p{N}\p{P}\p{S}]/u.test(subject))
    return "must begin with a letter, number or punctuation mark";
  return undefined;
}

/**
 * The local alert sink: an SNS endpoint speaking the AWS Query protocol for `Publish` only, so the
 * real SNS client and the real `SnsAlerts` adapter run unchanged; every message is recorded.
 */
export async function startLocalSns(): Promise<LocalSns> {
  const published: PublishedMessage[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      const requestId = randomUUID();
      if (form.get("Action") !== "Publish" || !form.get("TopicArn") || !form.get("Message")) {
        res.writeHead(400, { "content-type": "text/xml" });
        res.end(
          `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>local SNS supports Publish with TopicArn and Message only</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        );
        return;
      }
      const subject = form.get("Subject") ?? undefined;
      const subjectProblem = subject === undefined ? undefined : invalidSubject(subject);
      if (subjectProblem) {
        res.writeHead(400, { "content-type": "text/xml" });
        res.end(
          `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: Subject: ${subjectProblem}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        );
        return;
      }
      const attributes: Record<string, string> = {};
      for (let i = 1; form.has(`MessageAttributes.entry.${i}.Name`); i++) {
        attributes[form.get(`MessageAttributes.entry.${i}.Name`) ?? ""] =
          form.get(`MessageAttributes.entry.${i}.Value.StringValue`) ?? "";
      }
      published.push({
        topicArn: form.get("TopicArn") ?? "",
        subject,
        message: form.get("Message") ?? "",
        attributes,
        at: new Date().toISOString(),
      });
      res.writeHead(200, { "content-type": "text/xml" });
      res.end(
        `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    messages: () => [...published],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
