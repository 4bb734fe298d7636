import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { LOCAL_ACCOUNT, LOCAL_REGION } from "./definition";
import { type ExecutionResult, runRotation } from "./workflow-runner";

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

export interface LocalStepFunctionsApi {
  endpoint: string;
  /** Resolves when every execution started so far has finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The Step Functions API for the one local state machine, over the real AWS JSON 1.0 protocol
 * (`x-amz-target: AWSStepFunctions.<Operation>`), so the CLI's `@aws-sdk/client-sfn` calls work
 * against the local stack: StartExecution runs `statemachines/rotation.asl.json` with the real
 * handlers in this process; DescribeExecution reports status, output, error and cause.
 */
export async function startLocalStepFunctionsApi(opts: {
  waitMs: number;
  retryMs: number;
}): Promise<LocalStepFunctionsApi> {
  const executions = new Map<string, Execution>();
  const running = new Set<Promise<unknown>>();

  const operations: Record<string, (body: Record<string, unknown>) => [number, unknown]> = {
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
      return [200, { executionArn, startDate: execution.startDate }];
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

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const target = String(req.headers["x-amz-target"] ?? "");
      const operation = operations[target.replace(/^AWSStepFunctions\./, "")];
      let status = 400;
      let payload: unknown = {
        __type: "UnknownOperationException",
        message: `local Step Functions does not implement ${target}`,
      };
      if (operation) {
        try {
          [status, payload] = operation(JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}"));
        } catch {
          payload = { __type: "SerializationException", message: "request body is not JSON" };
        }
      }
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
    close: async () => {
      await Promise.allSettled([...running]);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
