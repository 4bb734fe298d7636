import type { ConsumerInstance, ConsumerRegistration, InstanceTouch } from "../../src/core/model";
import type { ConsumerRegistry, PrincipalClaim } from "../../src/core/ports";
import { copy } from "./copy";

/**
 * The consumers table in memory: registrations, instances and principal claims, keyed like
 * `DynamoConsumerRegistry`'s items and proven equal to it by consumer-registry.suite.ts.
 */
export class InMemoryConsumerRegistry implements ConsumerRegistry {
  readonly instanceWrites: ConsumerInstance[] = [];
  private readonly consumers = new Map<string, ConsumerRegistration>();
  private readonly instances = new Map<string, ConsumerInstance>();
  private readonly claims = new Map<string, PrincipalClaim>();

  async register(consumer: ConsumerRegistration) {
    this.consumers.set(`${consumer.secretId}#${consumer.consumerId}`, copy(consumer));
  }
  async listConsumers(secretId: string) {
    return [...this.consumers.values()].filter((c) => c.secretId === secretId).map(copy);
  }
  async findByPrincipal(principalArn: string, secretId: string) {
    return [...this.consumers.values()]
      .filter((c) => c.principalArn === principalArn && c.secretId === secretId)
      .map(copy)
      .sort((a, b) => a.consumerId.localeCompare(b.consumerId));
  }
  async listByPrincipal(principalArn: string) {
    return [...this.consumers.values()]
      .filter((c) => c.principalArn === principalArn)
      .map(copy)
      .sort((a, b) => a.secretId.localeCompare(b.secretId) || a.consumerId.localeCompare(b.consumerId));
  }
  async listInstances(secretId: string) {
    return [...this.instances.values()].filter((i) => i.secretId === secretId).map(copy);
  }
  async getInstance(secretId: string, consumerId: string, instanceId: string) {
    const found = this.instances.get(`${secretId}#${consumerId}#${instanceId}`);
    return found && copy(found);
  }
  async putInstance(instance: ConsumerInstance) {
    this.instanceWrites.push(copy(instance));
    this.instances.set(`${instance.secretId}#${instance.consumerId}#${instance.instanceId}`, copy(instance));
  }
  /** The adapter's conditional put: free, or already this consumer's; else the holder's id. */
  async claimPrincipal(secretId: string, principalArn: string, consumerId: string) {
    const key = `${secretId}#${principalArn}`;
    const held = this.claims.get(key);
    if (held && held.consumerId !== consumerId) return held.consumerId;
    this.claims.set(key, { secretId, principalArn, consumerId });
    return consumerId;
  }
  async releasePrincipal(secretId: string, principalArn: string, consumerId: string) {
    const key = `${secretId}#${principalArn}`;
    if (this.claims.get(key)?.consumerId === consumerId) this.claims.delete(key);
  }
  async listPrincipalClaims(secretId: string) {
    return [...this.claims.values()].filter((c) => c.secretId === secretId).map(copy);
  }
  async deregister(secretId: string, consumerId: string) {
    this.consumers.delete(`${secretId}#${consumerId}`);
    let instancesRemoved = 0;
    for (const [key, instance] of this.instances) {
      if (instance.secretId === secretId && instance.consumerId === consumerId) {
        this.instances.delete(key);
        instancesRemoved += 1;
      }
    }
    for (const [key, claim] of this.claims) {
      if (claim.secretId === secretId && claim.consumerId === consumerId) this.claims.delete(key);
    }
    return { instancesRemoved };
  }
  /** The adapter's conditional UpdateItem: only the two times move, only on the same fingerprint. */
  async touchInstance(touch: InstanceTouch) {
    const key = `${touch.secretId}#${touch.consumerId}#${touch.instanceId}`;
    const held = this.instances.get(key);
    if (held?.fingerprint !== touch.fingerprint) return false;
    const next = {
      ...held,
      lastSeenAt: touch.lastSeenAt,
      expectedBy: touch.expectedBy,
      ...(touch.sourceIp !== undefined ? { sourceIp: touch.sourceIp } : {}),
    };
    this.instanceWrites.push(copy(next));
    this.instances.set(key, copy(next));
    return true;
  }
  /** Not a port method: what DynamoDB's TTL does to an idle instance row (the simulation uses it). */
  expireInstance(secretId: string, consumerId: string, instanceId: string): boolean {
    return this.instances.delete(`${secretId}#${consumerId}#${instanceId}`);
  }
}
