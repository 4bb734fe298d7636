/**
 * Manual key management (issue 17): on an exchange account whose keys only a person can make or
 * delete (`ExchangeCapabilities.keyManagement: "manual"`), the workflow waits on a task a person
 * answers. A task never holds a key value: the request says what to make, the answer goes straight
 * to Secrets Manager.
 */

/** `create-key`: make the next key in the exchange's web UI. `delete-key`: delete the previous one. */
export type ManualTaskKind = "create-key" | "delete-key";

/**
 * `open` until answered; `claimed` while one operator's answer is being checked (a lease: a claim
 * whose holder died lapses); `done` once the workflow was resumed; `expired` once its deadline
 * passed or the execution stopped waiting (nothing it asked for happens any more).
 */
export type ManualTaskStatus = "open" | "claimed" | "done" | "expired";

/** What a person is asked to make: exactly the key being replaced, under the rotation's label. */
export interface KeyRequest {
  /** The name to give the key on the exchange (the rotation's label: keyshift finds its own keys by it). */
  label: string;
  /** The replaced key's permissions, in the exchange's own names: never more. */
  permissions: string[];
  /** The replaced key's IP allow-list (empty: unbound). */
  ipAllowlist: string[];
  /** keyshift's fixed egress: the key must let it in, or keyshift cannot verify or revoke through it. */
  egressIps: string[];
}

export interface ManualTask {
  /** Short and typeable: `k-<10 hex>`, derived from the rotation and kind (a re-opened task keeps its id). */
  taskId: string;
  kind: ManualTaskKind;
  secretId: string;
  rotationId: string;
  exchangeAccount: string;
  exchange: string;
  status: ManualTaskStatus;
  /** The Step Functions task token the execution waits on; replaced when the state is entered again. */
  taskToken: string;
  openedAt: string;
  /** After this the execution stops waiting (States.Timeout): the rotation stalls, nothing is revoked. */
  deadline: string;
  /** create-key: what to make. */
  request?: KeyRequest;
  /** delete-key: the key to delete and its ledger entry. */
  keyId?: string;
  entryId?: string;
  /** The operator whose answer is being checked (authenticated principal) and until when. */
  claim?: { by: string; until: string };
  /** Refusals of earlier answers, newest last (reasons only, never a value). */
  refusals?: Array<{ by: string; at: string; reason: string }>;
  doneBy?: string;
  doneAt?: string;
  /** Reminders sent so far (escalation steps), for delete-key tasks past their first alert. */
  reminders?: number;
}
