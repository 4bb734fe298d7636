import { KeyshiftError } from "../errors";

/**
 * CreateNext on an account whose keys only a person can make (`keyManagement: "manual"`), with no
 * key provided yet: the state machine catches it and waits on a task (`AwaitManualKey`).
 */
export class ManualKeyNeededError extends KeyshiftError {}

/** An operator's answer to a manual task was refused (wrong key, wrong scope, still authenticates…); the task stays open. */
export class ManualTaskRefusedError extends KeyshiftError {}

/**
 * The proof that a manually deleted key is gone could not be made (the prover function failed,
 * timed out or answered nothing keyshift understands). Nothing was recorded: the entry stays
 * `awaiting-operator`, and the confirmation can be run again.
 */
export class DeletionProofUnavailableError extends KeyshiftError {}
