import { randomUUID } from "node:crypto";
import { forceRevoke, rollback } from "../../core/operator/operator";
import { reasonOption, secretIdArg, stringOption } from "../args";
import { command } from "../command";

function breakGlass(name: "force-revoke" | "rollback") {
  return command({
    words: [name],
    args: ["<secretId>"],
    options: ["reason"],
    parse: ([secretId = ""], values) => ({
      secretId: secretIdArg(secretId),
      reason: reasonOption(stringOption(values, "reason"), name),
    }),
    async run({ deps, out, actor }, input) {
      // One id per invocation: the operator hold's owner, so a concurrent command is refused.
      const operation = `op-${randomUUID()}`;
      const act = name === "force-revoke" ? forceRevoke : rollback;
      const result = await act({ ...input, actor, operation }, deps);
      out.result(`${name} done: ${JSON.stringify(result)}`, result);
      return 0;
    },
  });
}

/** `force-revoke <secretId> --reason "..."`: revoke the previous key of a stalled rotation now. */
export const forceRevokeCommand = breakGlass("force-revoke");
/** `rollback <secretId> --reason "..."`: move AWSCURRENT back while the previous key is valid. */
export const rollbackCommand = breakGlass("rollback");
