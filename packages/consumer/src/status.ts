import { type ConsumerError, describeError } from "./errors.js";
import type { HeartbeatAnswer } from "./heartbeat-client.js";
import type { ConsumerLogger } from "./options.js";
import type { UsageStatus } from "./usage.js";

export interface ConsumerStatus {
  secretId: string;
  instanceId: string;
  /** Fingerprint of the value held (never the value). */
  fingerprint: string | undefined;
  lastHeartbeat: { at: string; status: string; nextHeartbeatSeconds: number | undefined } | undefined;
  consecutiveErrors: number;
  lastError: ConsumerError | undefined;
  /** Heartbeats answered with 2xx. */
  heartbeats: number;
  /** Successful reads of Secrets Manager, the first load included. */
  refreshes: number;
  stopped: boolean;
  /** The usage counts (`recordUsage`): still reported, waiting for a heartbeat, lost. */
  usage: UsageStatus;
}

/**
 * What the consumer has heard and what went wrong, for `status()` and the log. Errors are described
 * (masked, scrubbed, bounded) once, here, before anything keeps or prints them.
 */
export class ConsumerRecord {
  heartbeats = 0;
  consecutiveErrors = 0;
  lastError: ConsumerError | undefined;
  lastHeartbeat: ConsumerStatus["lastHeartbeat"];

  constructor(
    private readonly deps: {
      ids: { secretId: string; instanceId: string };
      logger: ConsumerLogger;
      now: () => number;
      /** The values to mask in any error text: what the process holds and held just before. */
      secrets: () => readonly string[];
    },
  ) {}

  answered(answer: HeartbeatAnswer, fingerprint: string): void {
    this.heartbeats += 1;
    this.consecutiveErrors = 0;
    this.lastHeartbeat = {
      at: new Date(this.deps.now()).toISOString(),
      status: answer.status,
      nextHeartbeatSeconds: answer.nextHeartbeatSeconds,
    };
    const fields = {
      ...this.deps.ids,
      fingerprint,
      status: answer.status,
      next: answer.nextHeartbeatSeconds,
    };
    if (answer.status === "unknown")
      this.deps.logger.warn("keyshift does not know the key this process holds", fields);
    else this.deps.logger.debug("heartbeat", fields);
  }

  failed(err: unknown, operation: ConsumerError["operation"]): void {
    this.consecutiveErrors += 1;
    this.lastError = this.describe(err, operation);
    this.deps.logger.warn(`${operation} failed`, {
      ...this.deps.ids,
      consecutiveErrors: this.consecutiveErrors,
      error: this.lastError,
    });
  }

  describe(err: unknown, operation: ConsumerError["operation"]): ConsumerError {
    return describeError(err, operation, this.deps.now(), this.deps.secrets());
  }

  snapshot(held: {
    fingerprint: string | undefined;
    refreshes: number;
    stopped: boolean;
  }): Omit<ConsumerStatus, "usage"> {
    return {
      ...this.deps.ids,
      fingerprint: held.fingerprint,
      lastHeartbeat: this.lastHeartbeat && { ...this.lastHeartbeat },
      consecutiveErrors: this.consecutiveErrors,
      lastError: this.lastError && { ...this.lastError },
      heartbeats: this.heartbeats,
      refreshes: held.refreshes,
      stopped: held.stopped,
    };
  }
}
