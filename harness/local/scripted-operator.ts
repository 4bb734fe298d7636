import { runKeyshift } from "../../src/cli/run";
import type { ManualTask } from "../../src/core/model";
import type { ManualTasks } from "../../src/core/ports";
import type { WebUi } from "./kraken-local";

/** One step a person did for keyshift: what, for which task, how long the task waited for them. */
export interface ManualStep {
  kind: ManualTask["kind"];
  taskId: string;
  /** From the task's opening to the person's answer being accepted. */
  waitedMs: number;
  /** How keyshift checked the answer: the exchange itself, or the person's word. */
  verified: string;
  /** The authenticated principal the audit names. */
  by: string;
}

export interface ScriptedOperator {
  steps: ManualStep[];
  stop(): Promise<void>;
}

/**
 * `npm start -- --exchange kraken`'s person: watches `keyshift tasks` as an on-call operator would,
 * does what each task asks at the exchange's web UI after a short think time, and answers with the
 * real CLI in this process (`keys provide --stdin`, `keys confirm-deleted`). With
 * KEYSHIFT_OPERATOR_API_URL and an operator's keys in `env` (`operatorEnv`) both go through the
 * operator API as that operator — the deployed path: the key travels UI → stdin → the envelope's
 * `stdin` → the operator API → Secrets Manager only. Without it the CLI answers itself, its calls
 * leaving from keyshift's egress.
 */
export function startScriptedOperator(opts: {
  tasks: ManualTasks;
  ui: WebUi;
  env: NodeJS.ProcessEnv;
  secretId: string;
  thinkMs?: number;
  print: (line: string) => void;
}): ScriptedOperator {
  const steps: ManualStep[] = [];
  const done = new Set<string>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const open = (await opts.tasks.listOpen()).filter(
        (t) => t.secretId === opts.secretId && t.status === "open" && !done.has(t.taskId),
      );
      for (const task of open) {
        await new Promise((r) => setTimeout(r, opts.thinkMs ?? 800));
        const step = await act(task, opts);
        if (step) {
          steps.push(step);
          done.add(task.taskId);
        }
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
  return {
    steps,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

async function act(
  task: ManualTask,
  opts: { ui: WebUi; env: NodeJS.ProcessEnv; print: (line: string) => void },
): Promise<ManualStep | undefined> {
  const account = task.exchangeAccount;
  let argv: string[];
  let stdin: string | undefined;
  if (task.kind === "create-key") {
    const r = task.request;
    if (!r) return undefined;
    const made = opts.ui.createKey(account, {
      name: r.label,
      permissions: r.permissions,
      ipAllowlist: r.ipAllowlist,
    });
    opts.print(
      `  person: made key ${made.keyId} "${r.label}" on ${task.exchange}:${account} (${r.permissions.join(", ")}; IPs ${r.ipAllowlist.join(", ") || "any"})`,
    );
    argv = ["keys", "provide", task.taskId, "--stdin", "--json"];
    stdin = JSON.stringify(made);
  } else {
    opts.ui.deleteKey(account, task.keyId as string);
    opts.print(`  person: deleted key ${task.keyId} on ${task.exchange}:${account}`);
    argv = ["keys", "confirm-deleted", task.taskId, "--json"];
  }
  let stdout = "";
  let stderr = "";
  const code = await runKeyshift(argv, {
    env: opts.env,
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    ...(stdin !== undefined ? { readStdin: async () => stdin } : {}),
  });
  if (code !== 0) {
    opts.print(`  person: keyshift ${argv.slice(0, 2).join(" ")} refused: ${stderr.trim()}`);
    return undefined;
  }
  const out = JSON.parse(stdout) as { verified?: string };
  opts.print(
    `  person: keyshift ${argv.slice(0, 2).join(" ")} ${task.taskId}: accepted (verified by ${out.verified})`,
  );
  const answered = task.openedAt;
  return {
    kind: task.kind,
    taskId: task.taskId,
    waitedMs: Date.now() - Date.parse(answered),
    verified: out.verified ?? "unknown",
    by: opts.env.KEYSHIFT_OPERATOR_API_URL
      ? "operator (through the operator API, as the principal its front door authenticated)"
      : "operator (local role, via STS GetCallerIdentity)",
  };
}
