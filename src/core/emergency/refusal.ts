import { EmergencyRefusedError } from "../errors";

/** What an operator runs again once the reason for a refusal is gone. */
export const rerun = (secretId: string) => `\`keyshift rotate ${secretId} --compromised --reason "..."\``;

/** `rotate --compromised` refused, saying why and what to run (the ASL reports it as is). */
export function refuse(message: string): EmergencyRefusedError {
  return new EmergencyRefusedError(`rotate --compromised refused: ${message}`);
}
