import { createHash } from "node:crypto";
import type { Finding } from "./model";

/** A finding's id: the same finding (kind, secret, key, hour, subject) gets the same id in every run. */
export function findingId(f: Pick<Finding, "kind" | "secretId" | "keyId" | "hour" | "subject">): string {
  const digest = createHash("sha256")
    .update(`${f.kind}\n${f.secretId}\n${f.keyId}\n${f.hour}\n${f.subject ?? ""}`)
    .digest("hex");
  return `mf_${digest.slice(0, 16)}`;
}
