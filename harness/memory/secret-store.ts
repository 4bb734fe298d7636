import { fingerprint } from "../../src/core/fingerprint";
import { STAGE } from "../../src/core/model";
import type { SecretStore, SecretVersionInfo } from "../../src/core/ports";
import { awsError, Faults } from "./faults";

interface StoredVersion {
  versionId: string;
  value: string;
  stages: string[];
}

export interface StageMoveCall {
  secretId: string;
  stage: string;
  to?: string;
  from?: string;
}

/**
 * Secrets Manager's staging-label semantics for what the `SecretStore` port exposes:
 * a label is on at most one version; moving AWSCURRENT moves AWSPREVIOUS to the version it left;
 * ClientRequestToken becomes the version id (same token + same value is a no-op, another value is
 * `ResourceExistsException`); moving a label held elsewhere without `from` is `InvalidParameterException`.
 * Every check runs before anything changes, so a refused call leaves the labels as they were.
 * Proven equal to the production adapter by secret-store.suite.ts (test/contract/ports/).
 */
export class InMemorySecretStore implements SecretStore {
  readonly faults = new Faults<"listVersions" | "getValue" | "putPending" | "moveStage">();
  readonly stageMoves: StageMoveCall[] = [];
  readonly puts: { secretId: string; token: string }[] = [];
  private readonly secrets = new Map<string, StoredVersion[]>();
  private counter = 0;

  /** Arrange helper: a secret whose first version is AWSCURRENT (as CreateSecret makes it). */
  create(secretId: string, value: string): string {
    if (this.secrets.has(secretId)) throw awsError("ResourceExistsException", `secret ${secretId} exists`);
    const versionId = this.newVersionId();
    this.secrets.set(secretId, [{ versionId, value, stages: [STAGE.current] }]);
    return versionId;
  }

  /**
   * Every version with its labels, including unlabelled (deprecated) ones, for byte-level
   * snapshots. Values appear as fingerprints so a failing assertion never prints one.
   */
  dump(secretId: string): string {
    const versions = this.secrets.get(secretId) ?? [];
    return JSON.stringify(
      versions.map((v) => ({ versionId: v.versionId, value: fingerprint(v.value), stages: v.stages })),
    );
  }

  /** Every version, labelled or not, with its value: for the simulator's checks, never for output. */
  versions(secretId: string): { versionId: string; stages: string[]; value: string }[] {
    return (this.secrets.get(secretId) ?? []).map((v) => ({ ...v, stages: [...v.stages] }));
  }

  /** Whether the secret exists (what a bound policy store asks). */
  has(secretId: string): boolean {
    return this.secrets.has(secretId);
  }

  /** The version holding `stage`, if any. */
  holder(secretId: string, stage: string): string | undefined {
    return this.require(secretId).find((v) => v.stages.includes(stage))?.versionId;
  }

  async listVersions(secretId: string): Promise<SecretVersionInfo[]> {
    this.faults.check("listVersions");
    // ListSecretVersionIds leaves out versions with no label unless IncludeDeprecated is set.
    return this.require(secretId)
      .filter((v) => v.stages.length > 0)
      .map((v) => ({ versionId: v.versionId, stages: [...v.stages] }));
  }

  async getValue(secretId: string, select: { versionId?: string; stage?: string }) {
    this.faults.check("getValue");
    const versions = this.require(secretId);
    if (select.versionId !== undefined) {
      const version = versions.find((v) => v.versionId === select.versionId);
      if (!version)
        throw awsError("ResourceNotFoundException", `no version ${select.versionId} of ${secretId}`);
      if (select.stage !== undefined && !version.stages.includes(select.stage)) {
        throw awsError(
          "InvalidRequestException",
          "You provided a VersionStage that is not associated to the provided VersionId.",
        );
      }
      return { versionId: version.versionId, value: version.value };
    }
    const stage = select.stage ?? STAGE.current;
    const version = versions.find((v) => v.stages.includes(stage));
    if (!version) throw awsError("ResourceNotFoundException", `no version of ${secretId} has label ${stage}`);
    return { versionId: version.versionId, value: version.value };
  }

  async putPending(secretId: string, token: string, value: string): Promise<{ versionId: string }> {
    this.faults.check("putPending");
    const versions = this.require(secretId);
    if (token.length < 32 || token.length > 64) {
      throw awsError(
        "ValidationException",
        `ClientRequestToken must be 32-64 characters, got ${token.length}`,
      );
    }
    this.puts.push({ secretId, token });
    const existing = versions.find((v) => v.versionId === token);
    if (existing) {
      if (existing.value === value) return { versionId: existing.versionId };
      throw awsError(
        "ResourceExistsException",
        `A version with the ClientRequestToken ${token} already exists with a different value.`,
      );
    }
    const version: StoredVersion = { versionId: token, value, stages: [] };
    versions.push(version);
    attach(versions, version, STAGE.next);
    return { versionId: token };
  }

  async moveStage(secretId: string, stage: string, move: { to?: string; from?: string }): Promise<void> {
    this.faults.check("moveStage");
    const versions = this.require(secretId);
    if (move.to === undefined && move.from === undefined) {
      throw awsError(
        "InvalidParameterException",
        "You must specify MoveToVersionId, RemoveFromVersionId, or both.",
      );
    }
    const target = move.to === undefined ? undefined : versions.find((v) => v.versionId === move.to);
    if (move.to !== undefined && !target)
      throw awsError("InvalidParameterException", `no version ${move.to}`);
    const removeFrom = move.from === undefined ? undefined : versions.find((v) => v.versionId === move.from);
    if (move.from !== undefined && !removeFrom)
      throw awsError("InvalidParameterException", `no version ${move.from}`);
    const holder = versions.find((v) => v.stages.includes(stage));
    if (removeFrom && holder !== removeFrom) {
      throw awsError("InvalidParameterException", `${stage} is not attached to version ${move.from}`);
    }
    if (target && holder && holder !== target && holder !== removeFrom) {
      throw awsError(
        "InvalidParameterException",
        `Staging label ${stage} is attached to version ${holder.versionId}; reference it in RemoveFromVersionId.`,
      );
    }
    if (!target && stage === STAGE.current) {
      throw awsError(
        "InvalidParameterException",
        "You can't remove AWSCURRENT without moving it to another version.",
      );
    }
    this.stageMoves.push({ secretId, stage, ...move });
    if (target) attach(versions, target, stage);
    else if (removeFrom) removeFrom.stages = removeFrom.stages.filter((s) => s !== stage);
  }

  private require(secretId: string): StoredVersion[] {
    const versions = this.secrets.get(secretId);
    if (!versions)
      throw awsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
    return versions;
  }

  private newVersionId(): string {
    this.counter += 1;
    return `00000000-0000-4000-8000-${this.counter.toString().padStart(12, "0")}`;
  }
}

/** Puts `stage` on `target`, off whichever version had it; AWSCURRENT leaves AWSPREVIOUS behind. */
function attach(versions: StoredVersion[], target: StoredVersion, stage: string): void {
  const holder = versions.find((v) => v.stages.includes(stage));
  if (holder === target) return;
  if (holder) holder.stages = holder.stages.filter((s) => s !== stage);
  target.stages.push(stage);
  if (stage === STAGE.current && holder) attach(versions, holder, STAGE.previous);
}
