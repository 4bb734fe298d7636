/**
 * The optional state file. Written synchronously after every mutation, before the response
 * goes out, so an answered request is on disk. The bytes go to a temporary file in the same
 * directory, are fsynced, then renamed over the target: a crash leaves the old file or the new
 * one, never half of either.
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import type { StateSnapshot } from "./types";

export function loadState(file: string): StateSnapshot | undefined {
  if (!existsSync(file)) return undefined;
  const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
  if (!isSnapshot(parsed)) {
    throw new Error(`Secrets Manager emulator state file ${file} is not a state snapshot (formatVersion 1).`);
  }
  return parsed;
}

function isSnapshot(value: unknown): value is StateSnapshot {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<StateSnapshot>;
  return (
    candidate.formatVersion === 1 && typeof candidate.nextSeq === "number" && Array.isArray(candidate.secrets)
  );
}

export function saveState(file: string, snapshot: StateSnapshot): void {
  const directory = dirname(file);
  mkdirSync(directory, { recursive: true });
  const temporary = join(
    directory,
    `.${basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`,
  );
  try {
    const fd = openSync(temporary, "w", 0o600);
    try {
      writeSync(fd, JSON.stringify(snapshot));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
