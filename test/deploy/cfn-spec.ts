import { loadAwsServiceSpecSync } from "@aws-cdk/aws-service-spec";
import type { PropertyType, SpecDatabase, TypeDefinition } from "@aws-cdk/service-spec-types";
import { describe, expect, it } from "vitest";
import type { Template } from "./packaged";

/**
 * The packaged template checked against the CloudFormation resource specification, offline: the
 * registry schemas as `@aws-cdk/aws-service-spec` ships them (the database the CDK generates its L1
 * classes from). For every resource: the type exists, every property is known, every value has the
 * property's type (string, number, boolean, list, map, a nested property type, JSON), and every
 * required property is there. An intrinsic function stands for a value of any type (its result is
 * only known at deploy time), except where a list of them is not a value (`Fn::If` branches are
 * checked against the property's type).
 */

export interface SpecProblem {
  logicalId: string;
  /** `Properties.VpcConfig.SubnetIds[0]`, or `Type` / a resource attribute. */
  path: string;
  problem: string;
}

const INTRINSICS = new Set([
  "Ref",
  "Fn::GetAtt",
  "Fn::Sub",
  "Fn::Join",
  "Fn::Select",
  "Fn::GetAZs",
  "Fn::ImportValue",
  "Fn::Base64",
  "Fn::FindInMap",
  "Fn::Split",
  "Fn::Cidr",
  "Fn::Length",
  "Fn::ToJsonString",
]);
/** What a resource may carry besides `Type` and `Properties` (the template anatomy). */
const RESOURCE_ATTRIBUTES = new Set([
  "Type",
  "Properties",
  "Condition",
  "DependsOn",
  "DeletionPolicy",
  "UpdateReplacePolicy",
  "UpdatePolicy",
  "CreationPolicy",
  "Metadata",
]);

let loaded: SpecDatabase | undefined;
/** The spec database, loaded once per test process (~0.7 s: a 10 MB gzipped JSON). */
export function specDatabase(): SpecDatabase {
  loaded ??= loadAwsServiceSpecSync();
  return loaded;
}

/** Every way the template departs from the specification; empty when it conforms. */
export function checkTemplate(template: Template, db: SpecDatabase = specDatabase()): SpecProblem[] {
  const problems: SpecProblem[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const report = (path: string, problem: string) => problems.push({ logicalId, path, problem });
    for (const key of Object.keys(resource)) {
      if (!RESOURCE_ATTRIBUTES.has(key)) report(key, "not a resource attribute");
    }
    if (resource.Type.startsWith("Custom::")) {
      if (resource.Properties?.ServiceToken === undefined)
        report("Properties.ServiceToken", "required, missing");
      continue;
    }
    const spec = db.lookup("resource", "cloudFormationType", "equals", resource.Type);
    const found = spec[0];
    if (!found) {
      report("Type", `${resource.Type} is not a resource type in the CloudFormation specification`);
      continue;
    }
    const checker = new ValueChecker(db, report);
    checker.object(resource.Properties ?? {}, found.properties, "Properties", resource.Type);
  }
  return problems;
}

/**
 * The suites a packaged template must pass, run by the test file that packaged it (template.test.ts,
 * egress.test.ts): two packagings at once in one checkout corrupt each other, so none is added.
 * 1. The template as packaged conforms.
 * 2. A copy with a wrong property of each kind planted is refused, each by logical id and path.
 */
export function cfnSpecSuites(name: string, templateOf: () => Template): void {
  describe(`${name}: the CloudFormation resource specification (@aws-cdk/aws-service-spec)`, () => {
    it("knows every resource type and property, each value of its type, every required property present", () => {
      const problems = checkTemplate(templateOf());
      expect(problems, describeProblems(problems)).toEqual([]);
    });

    it("refuses a copy with an unknown property, a wrong type, a missing required property, an unknown type", () => {
      const copy = structuredClone(templateOf());
      const [fnId, fn] =
        Object.entries(copy.Resources).find(([, r]) => r.Type === "AWS::Lambda::Function") ?? [];
      const [tableId, table] =
        Object.entries(copy.Resources).find(([, r]) => r.Type === "AWS::DynamoDB::Table") ?? [];
      if (!fn || !table) throw new Error("the template has no function or no table to plant in");
      fn.Properties.Timout = 30;
      fn.Properties.MemorySize = "512MB";
      delete fn.Properties.Role;
      (table.Properties.KeySchema as Record<string, unknown>[])[0] = {
        AttributeName: "secretId",
        KeyTyp: "HASH",
      };
      copy.Resources.PlantedQueue = { Type: "AWS::SQS::Queu", Properties: {} };

      expect(checkTemplate(copy)).toEqual([
        { logicalId: fnId, path: "Properties.Role", problem: "required, missing" },
        { logicalId: fnId, path: "Properties.MemorySize", problem: 'must be an integer, got string "512MB"' },
        { logicalId: fnId, path: "Properties.Timout", problem: "not a property of AWS::Lambda::Function" },
        { logicalId: tableId, path: "Properties.KeySchema[0].KeyType", problem: "required, missing" },
        {
          logicalId: tableId,
          path: "Properties.KeySchema[0].KeyTyp",
          problem: "not a property of KeySchema",
        },
        {
          logicalId: "PlantedQueue",
          path: "Type",
          problem: "AWS::SQS::Queu is not a resource type in the CloudFormation specification",
        },
      ]);
    });
  });
}

/** One line per problem, for an assertion message a reader can act on. */
export function describeProblems(problems: SpecProblem[]): string {
  return problems.map((p) => `${p.logicalId}: ${p.path}: ${p.problem}`).join("\n");
}

type Report = (path: string, problem: string) => void;
type Properties = Record<string, { type: PropertyType; required?: boolean }>;

class ValueChecker {
  constructor(
    private readonly db: SpecDatabase,
    private readonly report: Report,
  ) {}

  /** An object against a resource's or a property type's properties. */
  object(value: unknown, properties: Properties, path: string, typeName: string): void {
    if (isIntrinsic(value)) return;
    if (!isPlainObject(value)) {
      this.report(path, `must be an object (${typeName}), got ${kind(value)}`);
      return;
    }
    for (const [name, property] of Object.entries(properties)) {
      if (property.required && value[name] === undefined) this.report(`${path}.${name}`, "required, missing");
    }
    for (const [name, v] of Object.entries(value)) {
      const property = properties[name];
      if (!property) {
        this.report(`${path}.${name}`, `not a property of ${typeName}`);
        continue;
      }
      this.value(v, property.type, `${path}.${name}`);
    }
  }

  /** Problems of one value against one type, reported; `Fn::If` branches each checked. */
  value(value: unknown, type: PropertyType, path: string): void {
    const branches = ifBranches(value);
    if (branches) {
      for (const [i, branch] of branches.entries()) {
        if (!isNoValue(branch)) this.value(branch, type, `${path}.Fn::If[${i + 1}]`);
      }
      return;
    }
    if (isIntrinsic(value)) return;
    const mismatch = this.mismatch(value, type, path);
    if (mismatch) this.report(path, mismatch);
  }

  /** A problem the value itself has (reported by the caller), or undefined; nested ones reported here. */
  private mismatch(value: unknown, type: PropertyType, path: string): string | undefined {
    switch (type.type) {
      case "string":
        return typeof value === "string" ? allowed(value, type.allowedValues) : expected("a string", value);
      case "date-time":
        return typeof value === "string" ? undefined : expected("a date-time string", value);
      case "number":
        return isNumeric(value) ? undefined : expected("a number", value);
      case "integer":
        return isNumeric(value) && Number.isInteger(Number(value))
          ? undefined
          : expected("an integer", value);
      case "boolean":
        return typeof value === "boolean" || value === "true" || value === "false"
          ? undefined
          : expected("a boolean", value);
      case "json":
        return isPlainObject(value) || typeof value === "string"
          ? undefined
          : expected("a JSON object", value);
      case "null":
        return value === null ? undefined : expected("null", value);
      case "tag":
        this.object(value, TAG, path, "Tag");
        return undefined;
      case "array":
        if (!Array.isArray(value)) return expected("a list", value);
        for (const [i, item] of value.entries()) this.value(item, type.element, `${path}[${i}]`);
        return undefined;
      case "map":
        if (!isPlainObject(value)) return expected("a map", value);
        for (const [k, item] of Object.entries(value)) this.value(item, type.element, `${path}.${k}`);
        return undefined;
      case "union":
        return this.union(value, type.types, path);
      case "ref": {
        const def: TypeDefinition = this.db.get("typeDefinition", type.reference);
        this.object(value, def.properties, path, def.name);
        return undefined;
      }
    }
  }

  /**
   * A union holds when a member takes the value without a problem. The members of the value's shape
   * are tried (a list against `array`, not against `json`: DynamoDB's `KeySchema` is `array | json`,
   * and a wrong key inside the list must still be named); when only one has that shape, its own
   * problems are reported, with their paths.
   */
  private union(value: unknown, types: PropertyType[], path: string): string | undefined {
    const shaped = types.filter((t) => fitsShape(value, t));
    const specific = shaped.filter((t) => t.type !== "json");
    const candidates = specific.length > 0 ? specific : shaped;
    const found = candidates.map((member) => {
      const problems: [string, string][] = [];
      new ValueChecker(this.db, (p, problem) => problems.push([p, problem])).value(value, member, path);
      return problems;
    });
    if (found.some((problems) => problems.length === 0)) return undefined;
    const [only] = found;
    if (found.length === 1 && only) {
      for (const [p, problem] of only) this.report(p, problem);
      return undefined;
    }
    return `matches none of ${types.map((t) => t.type).join(" | ")}, got ${kind(value)}`;
  }
}

/** Whether a value has the JSON shape a type needs (its contents aside). */
function fitsShape(value: unknown, type: PropertyType): boolean {
  switch (type.type) {
    case "array":
      return Array.isArray(value);
    case "ref":
    case "map":
    case "tag":
      return isPlainObject(value);
    case "json":
      return isPlainObject(value) || typeof value === "string";
    case "string":
    case "date-time":
      return typeof value === "string";
    case "number":
    case "integer":
      return isNumeric(value);
    case "boolean":
      return typeof value === "boolean" || value === "true" || value === "false";
    default:
      return true;
  }
}

const TAG: Properties = {
  Key: { type: { type: "string" }, required: true },
  Value: { type: { type: "string" }, required: true },
};

function isIntrinsic(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && INTRINSICS.has(keys[0] ?? "");
}

/** `[then, else]` of an `{"Fn::If": [condition, then, else]}`, or undefined. */
function ifBranches(value: unknown): unknown[] | undefined {
  if (!isPlainObject(value) || Object.keys(value).length !== 1) return undefined;
  const args = value["Fn::If"];
  return Array.isArray(args) && args.length === 3 ? args.slice(1) : undefined;
}

const isNoValue = (value: unknown) => isPlainObject(value) && value.Ref === "AWS::NoValue";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** CloudFormation takes a number as a JSON number or as its decimal string. */
const isNumeric = (value: unknown) =>
  (typeof value === "number" && Number.isFinite(value)) ||
  (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value));

function allowed(value: string, values: string[] | undefined): string | undefined {
  if (!values || values.includes(value)) return undefined;
  return `"${value}" is not one of ${values.join(", ")}`;
}

const expected = (what: string, value: unknown) => `must be ${what}, got ${kind(value)}`;

function kind(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  if (typeof value === "object") return `an object {${Object.keys(value as object).join(", ")}}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}
