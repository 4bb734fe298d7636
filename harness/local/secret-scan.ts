import {
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { SecretNeedles } from "../../src/core/secret-shapes";

export interface SecretHit {
  where: string;
  /** Which secret (by index into the scanned list), never the value itself. */
  secretIndex: number;
}

/**
 * Looks for every secret — each secret-bearing field of each stored value (exchange key secrets,
 * Deribit/Bybit/keyshift-sim admin secrets: `core/secret-shapes`), whole or any 16-character
 * piece, raw or JSON-escaped — in each haystack. Returns where and which, never what.
 */
export function scanForSecrets(
  haystacks: Array<{ where: string; text: string }>,
  secrets: string[],
): SecretHit[] {
  const needles = new SecretNeedles();
  for (const [i, s] of secrets.entries()) needles.add(s, i);
  return haystacks.flatMap(({ where, text }) =>
    needles.find(text).map((secretIndex) => ({ where, secretIndex })),
  );
}

/** Every version's value of every secret in the (local) Secrets Manager: what must never leak. */
export async function allSecretValues(endpoint: string, region: string): Promise<string[]> {
  const sm = new SecretsManagerClient({ endpoint, region });
  const values: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await sm.send(new ListSecretsCommand({ NextToken }));
    for (const secret of page.SecretList ?? []) {
      const versions = await sm.send(
        new ListSecretVersionIdsCommand({ SecretId: secret.ARN, IncludeDeprecated: true }),
      );
      for (const v of versions.Versions ?? []) {
        const out = await sm.send(
          new GetSecretValueCommand({ SecretId: secret.ARN, VersionId: v.VersionId }),
        );
        if (out.SecretString) values.push(out.SecretString);
      }
    }
    NextToken = page.NextToken;
  } while (NextToken);
  sm.destroy();
  return values;
}

/**
 * Captures the handlers' structured log lines (Powertools writes JSON lines to stdout, errors to
 * stderr) so they can be scanned; other output passes through untouched.
 */
export function captureLambdaLogs(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const restores = [process.stdout, process.stderr].map((stream) => {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      if (text.startsWith("{") && text.includes('"service":"keyshift"')) {
        lines.push(...text.split("\n").filter(Boolean));
        return true;
      }
      return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    return () => {
      stream.write = original;
    };
  });
  return {
    lines,
    restore: () => {
      for (const r of restores) r();
    },
  };
}
