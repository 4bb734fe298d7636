import {
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";

export interface SecretHit {
  where: string;
  /** Which secret (by index into the scanned list), never the value itself. */
  secretIndex: number;
}

/**
 * Looks for every secret value — and its JSON-escaped form and the key secret inside it — in
 * each haystack. Returns where, never what.
 */
export function scanForSecrets(
  haystacks: Array<{ where: string; text: string }>,
  secrets: string[],
): SecretHit[] {
  const needles = secrets.flatMap((s, i) => {
    const forms = [s, JSON.stringify(s).slice(1, -1)];
    try {
      const inner = (JSON.parse(s) as { secret?: unknown }).secret;
      if (typeof inner === "string" && inner.length >= 16) forms.push(inner);
    } catch {
      // not JSON: the value itself is the needle
    }
    return forms.map((f) => ({ f, i }));
  });
  const hits: SecretHit[] = [];
  for (const { where, text } of haystacks) {
    for (const { f, i } of needles)
      if (f.length >= 8 && text.includes(f)) hits.push({ where, secretIndex: i });
  }
  return hits;
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
