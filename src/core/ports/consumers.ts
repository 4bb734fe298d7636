/** The consumers table: registrations, instances, principal claims, and the unregistered-reader alert log. */
import type { ConsumerInstance, ConsumerRegistration, InstanceTouch } from "../model";

/** The consumer a principal reports for within one secret (see `ConsumerRegistry.claimPrincipal`). */
export interface PrincipalClaim {
  secretId: string;
  principalArn: string;
  consumerId: string;
}

export interface ConsumerRegistry {
  register(consumer: ConsumerRegistration): Promise<void>;
  listConsumers(secretId: string): Promise<ConsumerRegistration[]>;
  findByPrincipal(principalArn: string, secretId: string): Promise<ConsumerRegistration[]>;
  /**
   * Every registration of a principal, whatever the secret (the by-principal index). The
   * heartbeat's composition may serve it from a container cache; `recheck` asks it to read again
   * if its entry is more than a moment old (a registration just made for another secret).
   */
  listByPrincipal(principalArn: string, opts?: { recheck?: boolean }): Promise<ConsumerRegistration[]>;
  listInstances(secretId: string): Promise<ConsumerInstance[]>;
  getInstance(
    secretId: string,
    consumerId: string,
    instanceId: string,
  ): Promise<ConsumerInstance | undefined>;
  putInstance(instance: ConsumerInstance): Promise<void>;
  /**
   * Claims `principalArn` for `consumerId` within the secret: one conditional write (free, or
   * already this consumer's), so of registrations racing under different ids exactly one gets it
   * — heartbeats are credited by principal, and a second id would never be live. Returns the id
   * that holds the claim afterwards: `consumerId` when it is this one's.
   */
  claimPrincipal(secretId: string, principalArn: string, consumerId: string): Promise<string>;
  /** Gives a claim back, only while `consumerId` holds it (a no-op otherwise). */
  releasePrincipal(secretId: string, principalArn: string, consumerId: string): Promise<void>;
  /** Every principal claim of the secret, with the consumer holding it. */
  listPrincipalClaims(secretId: string): Promise<PrincipalClaim[]>;
  /**
   * Deletes the registration first (its principal's heartbeats are refused from then on), then every
   * instance row of the consumer, then its principal claims; returns how many instance rows it
   * deleted. Re-running it after a crash finishes the job.
   */
  deregister(secretId: string, consumerId: string): Promise<{ instancesRemoved: number }>;
  /**
   * The steady-state heartbeat: one conditional write that moves `lastSeenAt` and `expectedBy`
   * only while the stored fingerprint is `fingerprint`. False (nothing written) when the instance
   * is new or reports another fingerprint: the caller audits the change, then `putInstance`.
   */
  touchInstance(touch: InstanceTouch): Promise<boolean>;
}

/**
 * The unregistered-reader alert goes out once per principal per secret per day: a claim, then a
 * confirmation once the alert is sent. A claim never confirmed (the alert failed, the function died)
 * goes stale, so a retried invocation claims it again and the alert is not lost.
 */
export interface ReaderAlertLog {
  /** True when the caller now owns today's alert for (secret, principal); false when it is sent or being sent. */
  claim(secretId: string, principalArn: string, day: string, now: Date): Promise<boolean>;
  /** Records that today's alert went out. */
  confirm(secretId: string, principalArn: string, day: string, now: Date): Promise<void>;
}

/**
 * Who read which secret when, per principal (the read audit's index for the anomalous-read rule):
 * a principal that suddenly reads many secrets it has not read for weeks is the source article's
 * "service that reads many credential paths it never read before".
 */
export interface ReadHistory {
  /** Records a read; answers when `principal` last read `secretId` before it (undefined: not kept). */
  recordRead(principal: string, secretId: string, at: Date): Promise<{ previousAt: string | undefined }>;
  /** Marks this read as the principal's first of `secretId` in the quiet period the core judges by. */
  markNew(principal: string, secretId: string, at: Date): Promise<void>;
  /** The secrets `principal` read for the first time (as marked) at or after `since`. */
  newSince(principal: string, since: Date): Promise<string[]>;
  /** Every secret `principal` ever read (as recorded), with its last read: a departure's exposure. */
  readsBy(principal: string): Promise<Array<{ secretId: string; lastReadAt: string }>>;
}
