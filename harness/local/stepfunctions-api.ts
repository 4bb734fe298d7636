import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { LOCAL_ACCOUNT, LOCAL_REGION } from "./definition";
import { authenticationFailed } from "./secrets-manager/errors";
import { actionMatches } from "./secrets-manager/resource-policy";
import { type SigningSecret, verifySigV4 } from "./sigv4-verify";
import { localTaskTokens } from "./task-tokens";
import { type ExecutionEvent, type ExecutionResult, runRotation } from "./workflow-runner";

export const LOCAL_STATE_MACHINE_ARN = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:keyshift-local-rotation`;

interface Execution {
  executionArn: string;
  name: string;
  input: string;
  startDate: number;
  stopDate?: number;
  status: "RUNNING" | "SUCCEEDED" | "FAILED";
  result?: ExecutionResult;
}

/** Who may call: `LocalIam` in the local stack (access key → signing secret, session ARN, grants). */
export interface StepFunctionsCallers {
  lookup(
    accessKeyId: string,
  ): (SigningSecret & { userArn: string; allowedActions: readonly string[] }) | undefined;
}

type Answer = [status: number, payload: unknown];

/**
 * The caller of `request`, or the answer of Step Functions' JSON 1.0 front end to a request it
 * cannot authenticate. It is the same front end as Secrets Manager's and DynamoDB's, so the same
 * mapping (`authenticationFailed`), all HTTP 400: no or a non-SigV4 Authorization is
 * MissingAuthenticationTokenException, a header lacking a part IncompleteSignatureException, a
 * wrong signature, an expired date or a credential scoped to another region or service
 * InvalidSignatureException, an unknown access key or session token UnrecognizedClientException.
 * Checked for Step Functions itself: StartExecution with an unknown key answers "The security token
 * included in the request is invalid. (Service: AWSStepFunctions; Status Code: 400; Error Code:
 * UnrecognizedClientException …)" (quoted in localstack/localstack#1869); a JSON front end's
 * mismatch is `{"__type":"InvalidSignatureException","message":"The request signature we
 * calculated does not match …"}` (smithy545/aws-apps-scripts#12), expired ones statusCode 400
 * (aws/aws-sdk-js#254).
 */
async function authenticate(
  request: IncomingMessage,
  body: string,
  callers: StepFunctionsCallers,
): Promise<{ userArn: string; allowedActions: readonly string[] } | Answer> {
  const url = new URL(request.url ?? "/", `http://${request.headers.host ?? "localhost"}`);
  const result = await verifySigV4(
    { method: request.method ?? "POST", url, headers: request.headers, body },
    { service: "states", region: LOCAL_REGION },
    (key) => callers.lookup(key),
  );
  if (!("reject" in result)) return result.principal;
  const failure = authenticationFailed(result);
  return [failure.status, { __type: failure.type, message: failure.message }];
}

/**
 * Whether the caller's identity policy allows `states:<operation>` on `resource`; if not, Step
 * Functions' implicit deny: AccessDeniedException, HTTP 400 ("… is not authorized to perform:
 * states:StartExecution on resource: <state machine>", statusCode 400, quoted in
 * FormidableLabs/aws-lambda-serverless-reference#31). In the local stack only keyshift's role (the
 * handlers, the CLI, the operator) is granted StartExecution and DescribeExecution.
 */
function authorize(
  caller: { userArn: string; allowedActions: readonly string[] },
  operation: string,
  resource: string,
): Answer | undefined {
  const action = `states:${operation}`;
  if (caller.allowedActions.some((pattern) => actionMatches(pattern, action))) return undefined;
  return [
    400,
    {
      __type: "AccessDeniedException",
      message: `User: ${caller.userArn} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
    },
  ];
}

export interface LocalStepFunctionsApi {
  endpoint: string;
  /** Resolves when every execution started so far has finished. */
  idle(): Promise<void>;
  /** The result of an execution started here, once it has finished (not an AWS API); undefined: unknown. */
  finished(executionArn: string): Promise<ExecutionResult | undefined>;
  /** Hands every history event of the executions started from now on to `onEvent` (progress output). */
  observe(onEvent: ((event: ExecutionEvent) => void) | undefined): void;
  close(): Promise<void>;
}

/**
 * The Step Functions API for the one local state machine, over the real AWS JSON 1.0 protocol
 * (`x-amz-target: AWSStepFunctions.<Operation>`), so the CLI's `@aws-sdk/client-sfn` calls work
 * against the local stack: StartExecution runs `statemachines/rotation.asl.json` with the real
 * handlers in this process; DescribeExecution reports status, output, error and cause;
 * SendTaskSuccess/SendTaskFailure answer a waiting state's task token (`task-tokens.ts`). Every
 * request is authenticated by its SigV4 signature (service `states`) against `callers`, then
 * authorized by the caller's grants (`authenticate`, `authorize`).
 */
export async function startLocalStepFunctionsApi(opts: {
  waitMs: number;
  retryMs: number;
  callers: StepFunctionsCallers;
}): Promise<LocalStepFunctionsApi> {
  const executions = new Map<string, Execution>();
  const running = new Set<Promise<unknown>>();
  const runs = new Map<string, Promise<unknown>>();
  let observer: ((event: ExecutionEvent) => void) | undefined;

  const operations: Record<string, (body: Record<string, unknown>) => Answer> = {
    StartExecution: (body) => {
      if (body.stateMachineArn !== LOCAL_STATE_MACHINE_ARN) {
        return [
          400,
          {
            __type: "StateMachineDoesNotExist",
            message: `State Machine Does Not Exist: '${body.stateMachineArn}'`,
          },
        ];
      }
      const name = typeof body.name === "string" ? body.name : randomUUID();
      const executionArn = `${LOCAL_STATE_MACHINE_ARN.replace(":stateMachine:", ":execution:")}:${name}`;
      if (executions.has(executionArn)) {
        return [
          400,
          { __type: "ExecutionAlreadyExists", message: `Execution Already Exists: '${executionArn}'` },
        ];
      }
      const input = typeof body.input === "string" ? body.input : "{}";
      let parsed: unknown;
      try {
        parsed = JSON.parse(input);
      } catch {
        return [
          400,
          { __type: "InvalidExecutionInput", message: "Invalid State Machine Execution Input: not JSON" },
        ];
      }
      const execution: Execution = {
        executionArn,
        name,
        input,
        startDate: Date.now() / 1000,
        status: "RUNNING",
      };
      executions.set(executionArn, execution);
      const run = runRotation(parsed as never, {
        executionName: name,
        waitMs: opts.waitMs,
        retryMs: opts.retryMs,
        ...(observer ? { onEvent: observer } : {}),
      })
        .then((result) => {
          execution.result = result;
          execution.status = result.status;
        })
        .catch((err: Error) => {
          execution.status = "FAILED";
          execution.result = {
            executionName: name,
            status: "FAILED",
            error: "States.Runtime",
            cause: err.message,
            history: [],
          };
        })
        .finally(() => {
          execution.stopDate = Date.now() / 1000;
          running.delete(run);
        });
      running.add(run);
      runs.set(executionArn, run);
      return [200, { executionArn, startDate: execution.startDate }];
    },
    SendTaskSuccess: (body) => {
      if (typeof body.taskToken !== "string" || typeof body.output !== "string") {
        return [400, { __type: "ValidationException", message: "taskToken and output are required strings" }];
      }
      const refusal = localTaskTokens.succeed(body.taskToken, body.output);
      return refusal ? [400, { __type: refusal.type, message: refusal.message }] : [200, {}];
    },
    SendTaskFailure: (body) => {
      if (typeof body.taskToken !== "string") {
        return [400, { __type: "ValidationException", message: "taskToken is a required string" }];
      }
      const refusal = localTaskTokens.fail(
        body.taskToken,
        String(body.error ?? ""),
        String(body.cause ?? ""),
      );
      return refusal ? [400, { __type: refusal.type, message: refusal.message }] : [200, {}];
    },
    DescribeExecution: (body) => {
      const execution = executions.get(String(body.executionArn));
      if (!execution) {
        return [
          400,
          { __type: "ExecutionDoesNotExist", message: `Execution Does Not Exist: '${body.executionArn}'` },
        ];
      }
      const r = execution.result;
      return [
        200,
        {
          executionArn: execution.executionArn,
          stateMachineArn: LOCAL_STATE_MACHINE_ARN,
          name: execution.name,
          status: execution.status,
          startDate: execution.startDate,
          stopDate: execution.stopDate,
          input: execution.input,
          output: r?.status === "SUCCEEDED" ? JSON.stringify(r.output) : undefined,
          error: r?.status === "FAILED" ? r.error : undefined,
          cause: r?.status === "FAILED" ? r.cause : undefined,
        },
      ];
    },
  };

  /** As AWS's front end: the operation is known, then the caller, then the body is read as input. */
  async function answer(req: IncomingMessage, text: string): Promise<Answer> {
    const target = String(req.headers["x-amz-target"] ?? "");
    const name = target.replace(/^AWSStepFunctions\./, "");
    const operation = Object.hasOwn(operations, name) ? operations[name] : undefined;
    if (!operation) {
      return [
        400,
        { __type: "UnknownOperationException", message: `local Step Functions does not implement ${target}` },
      ];
    }
    const caller = await authenticate(req, text, opts.callers);
    if (Array.isArray(caller)) return caller;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text || "{}");
    } catch {
      return [400, { __type: "SerializationException", message: "request body is not JSON" }];
    }
    // A task token names no resource; the grant is on the state machine that issued it.
    const resource = String(
      name === "StartExecution"
        ? body.stateMachineArn
        : name.startsWith("SendTask")
          ? LOCAL_STATE_MACHINE_ARN
          : body.executionArn,
    );
    return authorize(caller, name, resource) ?? operation(body);
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const [status, payload] = await answer(req, Buffer.concat(chunks).toString("utf8")).catch(
        (): Answer => [500, { __type: "InternalFailure", message: "local Step Functions failed" }],
      );
      res.writeHead(status, {
        "content-type": "application/x-amz-json-1.0",
        "x-amzn-requestid": randomUUID(),
      });
      res.end(JSON.stringify(payload));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    idle: async () => {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
    observe: (onEvent) => {
      observer = onEvent;
    },
    finished: async (executionArn) => {
      await runs.get(executionArn);
      return executions.get(executionArn)?.result;
    },
    close: async () => {
      await Promise.allSettled([...running]);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
