import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { actionMatches } from "./secrets-manager/resource-policy";
import { authenticateQueryRequest, type SigningSecret } from "./sigv4-verify";

export interface PublishedMessage {
  topicArn: string;
  subject?: string;
  message: string;
  attributes: Record<string, string>;
  at: string;
}

/** Who may call: `LocalIam` in the local stack (access key → signing secret, session ARN, grants). */
export interface SnsCallers {
  lookup(
    accessKeyId: string,
  ): (SigningSecret & { userArn: string; allowedActions: readonly string[] }) | undefined;
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

class SnsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const xml = (text: string): string => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The caller of `request`, or the error SNS's Query front end answers (`QUERY_AUTHENTICATION_ERRORS`). */
async function authenticate(
  request: IncomingMessage,
  body: string,
  region: string,
  callers: SnsCallers,
): Promise<{ userArn: string; allowedActions: readonly string[] }> {
  const caller = await authenticateQueryRequest(request, body, { service: "sns", region }, callers);
  if ("code" in caller) throw new SnsError(caller.code, caller.message, caller.status);
  return caller;
}

/** What SNS answers, parameter by parameter, for a Publish it takes; undefined when it does. */
function publishProblem(form: URLSearchParams): SnsError | undefined {
  if (form.get("Action") !== "Publish" || !form.get("TopicArn") || !form.get("Message")) {
    return new SnsError("InvalidParameter", "local SNS supports Publish with TopicArn and Message only");
  }
  const subject = form.get("Subject");
  const subjectProblem = subject === null ? undefined : invalidSubject(subject);
  if (subjectProblem)
    return new SnsError("InvalidParameter", `Invalid parameter: Subject: ${subjectProblem}`);
  return undefined;
}

function record(form: URLSearchParams): PublishedMessage {
  const attributes: Record<string, string> = {};
  for (let i = 1; form.has(`MessageAttributes.entry.${i}.Name`); i++) {
    attributes[form.get(`MessageAttributes.entry.${i}.Name`) ?? ""] =
      form.get(`MessageAttributes.entry.${i}.Value.StringValue`) ?? "";
  }
  return {
    topicArn: form.get("TopicArn") ?? "",
    subject: form.get("Subject") ?? undefined,
    message: form.get("Message") ?? "",
    attributes,
    at: new Date().toISOString(),
  };
}

/**
 * The local alert sink: an SNS endpoint speaking the AWS Query protocol for `Publish` only, so the
 * real SNS client and the real `SnsAlerts` adapter run unchanged; every message is recorded.
 *
 * Every request is authenticated as SNS does, by its SigV4 signature (service `sns`, `region`)
 * against `callers` (`QUERY_AUTHENTICATION_ERRORS`), then authorized: the caller's identity policy must
 * allow `sns:Publish` (in the local stack only keyshift's role is granted it), else SNS's
 * `AuthorizationError`, 403 ("… is not authorized to perform: SNS:Publish on resource: <topic>
 * because no identity-based policy allows the SNS:Publish action", as quoted in
 * aws-ia/terraform-aws-control_tower_account_factory#151; 403 in awslabs/aws-service-catalog-puppet#19).
 * Topic policies are not modelled.
 */
export async function startLocalSns(opts: { callers: SnsCallers; region: string }): Promise<LocalSns> {
  const published: PublishedMessage[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const requestId = randomUUID();
      try {
        const body = Buffer.concat(chunks).toString("utf8");
        const caller = await authenticate(req, body, opts.region, opts.callers);
        const form = new URLSearchParams(body);
        const problem = publishProblem(form);
        if (problem) throw problem;
        const topicArn = form.get("TopicArn") ?? "";
        if (!caller.allowedActions.some((pattern) => actionMatches(pattern, "sns:Publish"))) {
          throw new SnsError(
            "AuthorizationError",
            `User: ${caller.userArn} is not authorized to perform: SNS:Publish on resource: ${topicArn} because no identity-based policy allows the SNS:Publish action`,
            403,
          );
        }
        published.push(record(form));
        res.writeHead(200, { "content-type": "text/xml" });
        res.end(
          `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`,
        );
      } catch (err) {
        const failure = err instanceof SnsError ? err : new SnsError("InternalError", "internal error", 500);
        res.writeHead(failure.status, { "content-type": "text/xml" });
        res.end(
          `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>${failure.status >= 500 ? "Receiver" : "Sender"}</Type><Code>${failure.code}</Code><Message>${xml(failure.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        );
      }
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
