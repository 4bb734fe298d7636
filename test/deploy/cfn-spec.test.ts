/**
 * The specification checker (cfn-spec.ts) on small templates written here: what it accepts, what it
 * refuses and how it names it. The packaged templates themselves are checked where they are
 * packaged (template.test.ts, egress.test.ts, through `cfnSpecSuites`): packaging here as well would
 * run a second `serverless package` in the same checkout at the same time.
 */
import { describe, expect, it } from "vitest";
import { checkTemplate, type SpecProblem } from "./cfn-spec";
import type { CfnResource, Template } from "./packaged";

const ROLE = { "Fn::GetAtt": ["Role", "Arn"] };
const fn = (properties: Record<string, unknown>, extra: Partial<CfnResource> = {}): Template => ({
  Resources: {
    Fn: {
      Type: "AWS::Lambda::Function",
      Properties: { Code: { ZipFile: "exports.handler = async () => 1" }, Role: ROLE, ...properties },
      ...extra,
    },
  },
});
const problemsOf = (template: Template) =>
  checkTemplate(template).map((p: SpecProblem) => `${p.path}: ${p.problem}`);

describe("cfn-spec: what conforms", () => {
  it.each([
    ["Ref", { Ref: "Param" }],
    ["Fn::GetAtt", { "Fn::GetAtt": ["Bucket", "Arn"] }],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub, not JavaScript
    ["Fn::Sub", { "Fn::Sub": "${AWS::StackName}-fn" }],
    ["Fn::Join", { "Fn::Join": ["-", ["a", { Ref: "AWS::Region" }]] }],
    ["Fn::Select", { "Fn::Select": [0, ["a", "b"]] }],
    ["Fn::ImportValue", { "Fn::ImportValue": "shared-name" }],
    ["Fn::Base64", { "Fn::Base64": "x" }],
    ["Fn::FindInMap", { "Fn::FindInMap": ["Map", "a", "b"] }],
    ["Fn::Cidr", { "Fn::Cidr": ["10.0.0.0/16", 2, 8] }],
    ["Fn::If", { "Fn::If": ["IsProd", "a", { Ref: "AWS::NoValue" }] }],
  ])("%s where a string goes", (_, value) => {
    expect(problemsOf(fn({ FunctionName: value }))).toEqual([]);
  });

  it("intrinsics where a list goes (Fn::Split, Fn::GetAZs) and inside a list", () => {
    expect(
      problemsOf(
        fn({
          Architectures: { "Fn::Split": [",", "arm64"] },
          VpcConfig: { SubnetIds: { "Fn::GetAZs": "" }, SecurityGroupIds: [{ Ref: "Group" }, "sg-1"] },
        }),
      ),
    ).toEqual([]);
  });

  it("maps, JSON, tags, unions, numbers and booleans as CloudFormation takes them", () => {
    const template: Template = {
      Resources: {
        ...fn({
          Environment: { Variables: { A: "1", B: { Ref: "X" } } },
          Timeout: "30",
          MemorySize: 512,
          Tags: [{ Key: "team", Value: "keys" }],
        }).Resources,
        Role: {
          Type: "AWS::IAM::Role",
          Properties: { AssumeRolePolicyDocument: { Version: "2012-10-17", Statement: [] } },
        },
        Machine: {
          Type: "AWS::StepFunctions::StateMachine",
          Properties: { RoleArn: ROLE, DefinitionSubstitutions: { a: "x", b: 3, c: true } },
        },
        Table: {
          Type: "AWS::DynamoDB::Table",
          Properties: {
            KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: "true" },
          },
          DeletionPolicy: "Retain",
          UpdateReplacePolicy: "Retain",
        } as CfnResource,
        Custom: { Type: "Custom::Thing", Properties: { ServiceToken: ROLE, Anything: [1] } },
      },
    };
    expect(problemsOf(template)).toEqual([]);
  });
});

describe("cfn-spec: what it refuses, by logical id and property path", () => {
  it("names the logical id of the resource", () => {
    expect(checkTemplate(fn({ Timout: 3 }))).toEqual([
      { logicalId: "Fn", path: "Properties.Timout", problem: "not a property of AWS::Lambda::Function" },
    ]);
  });

  it.each([
    [{ Timeout: "thirty" }, 'Properties.Timeout: must be an integer, got string "thirty"'],
    [{ Timeout: 1.5 }, "Properties.Timeout: must be an integer, got number 1.5"],
    [{ FunctionName: 7 }, "Properties.FunctionName: must be a string, got number 7"],
    [{ Architectures: "arm64" }, 'Properties.Architectures: must be a list, got string "arm64"'],
    [{ Environment: { Variables: ["A"] } }, "Properties.Environment.Variables: must be a map, got a list"],
    [
      { Environment: { Variables: { A: {} } } },
      "Properties.Environment.Variables.A: must be a string, got an object {}",
    ],
    [
      { VpcConfig: { SubnetIds: ["s", 5] } },
      "Properties.VpcConfig.SubnetIds[1]: must be a string, got number 5",
    ],
    [{ VpcConfig: { Subnets: [] } }, "Properties.VpcConfig.Subnets: not a property of VpcConfig"],
    [{ VpcConfig: "vpc-1" }, 'Properties.VpcConfig: must be an object (VpcConfig), got string "vpc-1"'],
    [{ Tags: [{ Key: "team" }] }, "Properties.Tags[0].Value: required, missing"],
    [
      { Code: { S3ObjectStorageMode: "MOVE", ZipFile: "x" } },
      'Properties.Code.S3ObjectStorageMode: "MOVE" is not one of COPY, REFERENCE',
    ],
    [
      { FunctionName: { "Fn::If": ["C", "ok", ["not", "a", "string"]] } },
      "Properties.FunctionName.Fn::If[2]: must be a string, got a list",
    ],
    [{ Role: { "Fn::Nope": "x" } }, "Properties.Role: must be a string, got an object {Fn::Nope}"],
  ])("%j", (properties, problem) => {
    expect(problemsOf(fn(properties))).toEqual([problem]);
  });

  it("inside a union, the member of the value's shape names the fault (KeySchema is array | json)", () => {
    const table: Template = {
      Resources: {
        Table: {
          Type: "AWS::DynamoDB::Table",
          Properties: { KeySchema: [{ AttributeName: "id", KeyTyp: "HASH" }] },
        },
      },
    };
    expect(problemsOf(table)).toEqual([
      "Properties.KeySchema[0].KeyType: required, missing",
      "Properties.KeySchema[0].KeyTyp: not a property of KeySchema",
    ]);
  });

  it("a missing required property, an unknown resource type, an unknown resource attribute, a custom resource without its token", () => {
    const template: Template = {
      Resources: {
        NoCode: { Type: "AWS::Lambda::Function", Properties: { Role: ROLE } },
        Typo: { Type: "AWS::Lambda::Functon", Properties: {} },
        Attr: { Type: "AWS::SNS::Topic", Properties: {}, Propertes: {} } as unknown as CfnResource,
        Custom: { Type: "Custom::Thing", Properties: {} },
        Union: {
          Type: "AWS::StepFunctions::StateMachine",
          Properties: { RoleArn: ROLE, DefinitionSubstitutions: { a: [1] } },
        },
      },
    };
    expect(checkTemplate(template)).toEqual([
      { logicalId: "NoCode", path: "Properties.Code", problem: "required, missing" },
      {
        logicalId: "Typo",
        path: "Type",
        problem: "AWS::Lambda::Functon is not a resource type in the CloudFormation specification",
      },
      { logicalId: "Attr", path: "Propertes", problem: "not a resource attribute" },
      { logicalId: "Custom", path: "Properties.ServiceToken", problem: "required, missing" },
      {
        logicalId: "Union",
        path: "Properties.DefinitionSubstitutions.a",
        problem: "matches none of string | integer | boolean, got a list",
      },
    ]);
  });
});
