/** Registered consumers of a secret and the instances that heartbeat for them. */

export interface ConsumerRegistration {
  secretId: string;
  consumerId: string;
  /** IAM role ARN allowed to report for this consumer (`arn:aws:iam::ACCOUNT:role/NAME`). */
  principalArn: string;
  cacheTtlSeconds: number;
  heartbeatIntervalSeconds: number;
  required: boolean;
  registeredAt: string;
}

export interface ConsumerInstance {
  secretId: string;
  consumerId: string;
  instanceId: string;
  fingerprint: string;
  firstSeenAt: string;
  lastSeenAt: string;
  /**
   * When the server told the instance to be back by (`lastSeenAt` + `nextHeartbeatSeconds`):
   * liveness follows this promise. Absent on rows written before it existed.
   */
  expectedBy?: string;
  /** Where its last heartbeat came from (the front door's source IP); absent on older rows. */
  sourceIp?: string;
  /**
   * The last entry of the instance's own audit stream (its fingerprint changes): the row anchors
   * that stream, so a stream removed whole does not verify (see `instanceAuditStream`).
   */
  auditSeq?: number;
  auditHash?: string;
}

/** One heartbeat's refresh of an instance whose fingerprint did not change. */
export interface InstanceTouch {
  secretId: string;
  consumerId: string;
  instanceId: string;
  fingerprint: string;
  lastSeenAt: string;
  expectedBy: string;
  /** The instance's source IP as the front door saw it (absent: the front door gave none). */
  sourceIp?: string;
}
