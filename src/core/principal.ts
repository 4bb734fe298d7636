import { InvalidInputError } from "./errors";

const ROLE = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\w+=,.@\-/]*\/)?([\w+=,.@-]+)$/;
const ASSUMED = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/[\w+=,.@-]+$/;
const USER = /^arn:(aws[a-z-]*):iam::(\d{12}):user\/(?:[\w+=,.@\-/]*\/)?([\w+=,.@-]+)$/;

/**
 * Normalizes an IAM principal to the key consumers are registered under.
 * A role's temporary credentials show up as `arn:aws:sts::ACCT:assumed-role/NAME/SESSION`, which
 * drops the role's path, so both that and `arn:aws:iam::ACCT:role/PATH/NAME` map to
 * `arn:aws:iam::ACCT:role/NAME`. IAM users keep their own ARN (path dropped likewise).
 */
export function principalKey(arn: string): string {
  const role = ROLE.exec(arn) ?? ASSUMED.exec(arn);
  if (role) return `arn:${role[1]}:iam::${role[2]}:role/${role[3]}`;
  const user = USER.exec(arn);
  if (user) return `arn:${user[1]}:iam::${user[2]}:user/${user[3]}`;
  throw new InvalidInputError(`not an IAM role, assumed-role or user ARN: ${arn.slice(0, 200)}`);
}
