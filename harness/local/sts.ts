import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { authenticateQueryRequest, type SigningSecret } from "./sigv4-verify";

/** Who may call: `LocalIam` (access key → signing secret and the session it was issued for). */
export interface StsCallers {
  lookup(
    accessKeyId: string,
  ): (SigningSecret & { userArn: string; accountId: string; userId: string }) | undefined;
}

export interface LocalSts {
  endpoint: string;
  close(): Promise<void>;
}

const xml = (text: string): string => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
const NS = "https://sts.amazonaws.com/doc/2011-06-15/";

/**
 * The local STS, for `GetCallerIdentity` only: what the CLI asks to learn who is running it, so the
 * audit names the authenticated principal and never a name someone typed. Speaks the Query protocol
 * the real STS client uses (`Action=GetCallerIdentity&Version=2011-06-15`, an XML answer with `Arn`,
 * `UserId`, `Account`); authenticates every call by its SigV4 signature (service `sts`) against
 * `LocalIam`, as STS does (`QUERY_AUTHENTICATION_ERRORS`, shared with SNS's front end).
 * GetCallerIdentity needs no permission ("No permissions are required to perform this operation",
 * STS API reference), so nothing is authorized beyond the signature.
 */
export async function startLocalSts(opts: { callers: StsCallers; region: string }): Promise<LocalSts> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const requestId = randomUUID();
      const answer = (status: number, body: string) => {
        res.writeHead(status, { "content-type": "text/xml" });
        res.end(body);
      };
      const body = Buffer.concat(chunks).toString("utf8");
      const caller = await authenticateQueryRequest(
        req,
        body,
        { service: "sts", region: opts.region },
        opts.callers,
      );
      if ("code" in caller) {
        answer(
          caller.status,
          `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${caller.code}</Code><Message>${xml(caller.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        );
        return;
      }
      if (new URLSearchParams(body).get("Action") !== "GetCallerIdentity") {
        answer(
          400,
          `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>the local STS answers GetCallerIdentity only</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        );
        return;
      }
      answer(
        200,
        `<GetCallerIdentityResponse xmlns="${NS}"><GetCallerIdentityResult><Arn>${xml(caller.userArn)}</Arn><UserId>${xml(caller.userId)}</UserId><Account>${caller.accountId}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
