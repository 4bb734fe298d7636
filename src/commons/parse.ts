import { InvalidInputError } from "../core/errors";
import { SECRET_ID, SECRET_ID_RULE } from "../core/secret-id";
import * as z from "./zod";

/** Secrets Manager names: 1–512 of letters, digits and /_+=.@- */
export const secretIdSchema = z
  .string({ error: "secretId must be a string" })
  .check(z.regex(SECRET_ID, `secretId must be ${SECRET_ID_RULE}`));

/** Validates `value` against `schema`; the error lists every problem by field, never the value. */
export function parseOrThrow<S extends z.ZodMiniType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new InvalidInputError(`invalid ${what}: ${problems.join("; ")}`);
  }
  return parsed.data;
}
