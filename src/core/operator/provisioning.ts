import type { SecretSettings } from "../model";

/**
 * The provisioning record the source article asks for on every credential keyshift takes over:
 * who requested it, what for, when, which key scope, and who approved it. It is the enrollment's
 * audit entry (`secret-enrolled`) and, when a webhook is configured, the payload that opens a
 * ticket in the firm's tracker. Ids, scope and names only: never a key value.
 */
export interface ProvisioningRecord {
  /** The payload's shape and version, for the receiver to dispatch on. */
  kind: "keyshift.provisioning.v1";
  /** The same for a re-run of the same enrollment: a receiver dedupes on it. */
  idempotencyKey: string;
  secretId: string;
  exchangeAccount: string;
  /** The authenticated principal that ran the enrollment (`operator:<ARN>`). */
  requestedBy: string;
  purpose: string | null;
  ticket: string | null;
  /** The key's scope as recorded at enrollment. */
  scope: string[];
  schedule: string | null;
  enrolledAt: string;
  /** Approvals (a second person) are not built yet: every enrollment is a single operator's. */
  approvedBy: null;
  approval: "single-operator";
  at: string;
}

export function provisioningRecord(
  enrolled: SecretSettings,
  input: { requestedBy: string; purpose?: string; ticket?: string; scope: string[]; at: Date },
): ProvisioningRecord {
  return {
    kind: "keyshift.provisioning.v1",
    idempotencyKey: `${enrolled.secretId}@${enrolled.enrolledAt}`,
    secretId: enrolled.secretId,
    exchangeAccount: enrolled.exchangeAccount,
    requestedBy: input.requestedBy,
    purpose: input.purpose ?? null,
    ticket: input.ticket ?? null,
    scope: [...input.scope],
    schedule: enrolled.schedule ?? null,
    enrolledAt: enrolled.enrolledAt,
    approvedBy: null,
    approval: "single-operator",
    at: input.at.toISOString(),
  };
}
