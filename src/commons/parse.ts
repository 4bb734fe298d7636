import { InvalidInputError } from "../core/errors";
import * as z from "./zod";

/** Secrets Manager names: 1–512 of letters, digits and /_+=.@- */
export const secretIdSchema = z
  .string({ error: "secretId must be a string" })
  .check(
    z.regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, "secretId must be 1-512 characters of A-Z a-z 0-9 / _ + = . @ -"),
  );

/** Validates `value` against `schema`; the error lists every problem by field, never the value. */
export function parseOrThrow<S extends z.ZodMiniType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new InvalidInputError(`invalid ${what}: ${problems.join("; ")}`);
  }
  return parsed.data;
}
