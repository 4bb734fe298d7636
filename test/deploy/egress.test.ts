import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workingCopy } from "../../harness/bench/bundles";
import { EXCHANGE_CALLERS, egressResources, egressSettings } from "../../infra/egress.cjs";
import { loadConfig } from "../../src/commons/config";
import { checkTemplate, describeProblems } from "./cfn-spec";
import { type CfnResource, ROOT, resourcesOfType, type Template } from "./packaged";

/**
 * `--param egress=managed|existing` (infra/egress.cjs, infra/egress-plugin.cjs). Packaged in a scratch
 * copy of the tree, one run after another: two packagings in one checkout share serverless-esbuild's
 * work folder, and template.test.ts packages the checkout.
 */
const SERVERLESS = join(ROOT, "node_modules", "osls", "bin", "serverless.js");

/** The functions whose use cases take the `exchange` port; nothing else may sit in the VPC. */
const EXCHANGE_FUNCTIONS = [
  "AbortRotationLambdaFunction",
  "BeginRotationLambdaFunction",
  "CreateNextLambdaFunction",
  "HygieneAuditLambdaFunction",
  "MisuseHourlyLambdaFunction",
  "OperatorApiLambdaFunction",
  "RetryRevocationsLambdaFunction",
  "RevokePreviousLambdaFunction",
];
const VPC_ACCESS = {
  "Fn::Join": [
    "",
    ["arn:", { Ref: "AWS::Partition" }, ":iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"],
  ],
};
const SUBNETS = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"];
const GROUP = "sg-0123456789abcdef0";
const IPS = "203.0.113.10,198.51.100.7";

let tree: { root: string; remove: () => void };
const runs: { code: number; output: string; template?: Template }[] = [];

async function packageWith(params: string[]): Promise<{ code: number; output: string; template?: Template }> {
  const out = mkdtempSync(join(tmpdir(), "keyshift-egress-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLS_TELEMETRY_DISABLED: "1",
    SLS_NOTIFICATIONS_MODE: "off",
  };
  for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"])
    delete env[k];
  const args = ["package", "--stage", "dev", "--package", out, ...params.flatMap((p) => ["--param", p])];
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve) =>
    execFile(
      process.execPath,
      [SERVERLESS, ...args],
      { cwd: tree.root, env, maxBuffer: 16 * 1024 * 1024, timeout: 180_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? (typeof error.code === "number" ? error.code : 1) : 0,
          output: `${stdout}${stderr}`,
        }),
    ),
  );
  const template =
    code === 0
      ? (JSON.parse(readFileSync(join(out, "cloudformation-template-update-stack.json"), "utf8")) as Template)
      : undefined;
  rmSync(out, { recursive: true, force: true });
  return { code, output, template };
}

const templateOf = (i: number): Template => {
  const t = runs[i]?.template;
  if (!t) throw new Error(`packaging run ${i} failed:\n${runs[i]?.output}`);
  return t;
};

beforeAll(async () => {
  tree = workingCopy();
  for (const params of [
    [],
    ["egress=managed"],
    ["egress=managed", "egressAzs=2"],
    [
      "egress=existing",
      `egressSubnetIds=${SUBNETS.join(",")}`,
      `egressSecurityGroupIds=${GROUP}`,
      `egressIps=${IPS}`,
    ],
  ])
    runs.push(await packageWith(params));
}, 600_000);
afterAll(() => tree?.remove());

const [BASE, MANAGED, MANAGED_2, EXISTING] = [0, 1, 2, 3];

const inVpc = (t: Template) =>
  resourcesOfType(t, "AWS::Lambda::Function")
    .filter(([, r]) => r.Properties.VpcConfig)
    .map(([id]) => id)
    .sort();
const fn = (t: Template, id: string) => t.Resources[id] as CfnResource;
const roleOf = (t: Template, fnId: string) => fn(t, fnId.replace("LambdaFunction", "IamRoleLambdaExecution"));
const envOf = (t: Template, id: string) =>
  (fn(t, id).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
const outputOf = (t: Template) => (t.Outputs?.KeyshiftEgressIps as { Value: unknown } | undefined)?.Value;
const masked = (t: Template) =>
  JSON.stringify(t).replace(/serverless\/keyshift\/dev\/[^/"]+\//g, "serverless/keyshift/dev/<stamp>/");

describe("fixed egress templates against the CloudFormation resource specification", () => {
  it.each([
    ["egress=managed", MANAGED],
    ["egress=managed, egressAzs=2", MANAGED_2],
    ["egress=existing", EXISTING],
  ])("%s: every resource type, property, value type and required property", (_, run) => {
    const problems = checkTemplate(templateOf(run));
    expect(problems, describeProblems(problems)).toEqual([]);
  });
});

describe("fixed egress: --param egress=managed", () => {
  it("puts exactly the exchange-calling functions in the VPC, in its private subnets, HTTPS out only", () => {
    const t = templateOf(MANAGED);
    expect(inVpc(t)).toEqual(EXCHANGE_FUNCTIONS);
    expect(EXCHANGE_CALLERS.map((n) => `${n[0]?.toUpperCase()}${n.slice(1)}LambdaFunction`).sort()).toEqual(
      EXCHANGE_FUNCTIONS,
    );
    for (const id of EXCHANGE_FUNCTIONS) {
      expect(fn(t, id).Properties.VpcConfig).toEqual({
        SecurityGroupIds: [{ Ref: "EgressSecurityGroup" }],
        SubnetIds: [{ Ref: "EgressPrivateSubnet1" }],
      });
    }
    expect(t.Resources.EgressSecurityGroup?.Properties.SecurityGroupEgress).toEqual([
      { IpProtocol: "tcp", FromPort: 443, ToPort: 443, CidrIp: "0.0.0.0/0" },
    ]);
    expect(t.Resources.EgressSecurityGroup?.Properties.SecurityGroupIngress).toBeUndefined();
  });

  it("builds one zone by default: VPC, public and private subnet, NAT gateway with an Elastic IP, DynamoDB gateway endpoint", () => {
    const t = templateOf(MANAGED);
    const types = (type: string) => resourcesOfType(t, type).map(([id]) => id);
    expect(types("AWS::EC2::VPC")).toEqual(["EgressVpc"]);
    expect(types("AWS::EC2::Subnet").sort()).toEqual(["EgressPrivateSubnet1", "EgressPublicSubnet1"]);
    expect(types("AWS::EC2::NatGateway")).toEqual(["EgressNatGateway1"]);
    expect(types("AWS::EC2::EIP")).toEqual(["EgressNatIp1"]);
    expect(t.Resources.EgressNatGateway1?.Properties).toMatchObject({
      AllocationId: { "Fn::GetAtt": ["EgressNatIp1", "AllocationId"] },
      SubnetId: { Ref: "EgressPublicSubnet1" },
    });
    // The private subnet leaves through the NAT; the NAT's subnet through the internet gateway.
    expect(t.Resources.EgressPrivateDefaultRoute1?.Properties).toMatchObject({
      RouteTableId: { Ref: "EgressPrivateRouteTable1" },
      DestinationCidrBlock: "0.0.0.0/0",
      NatGatewayId: { Ref: "EgressNatGateway1" },
    });
    expect(t.Resources.EgressPrivateSubnet1RouteTableAssociation?.Properties).toEqual({
      SubnetId: { Ref: "EgressPrivateSubnet1" },
      RouteTableId: { Ref: "EgressPrivateRouteTable1" },
    });
    expect(t.Resources.EgressPublicDefaultRoute?.Properties).toMatchObject({
      GatewayId: { Ref: "EgressInternetGateway" },
    });
    expect(t.Resources.EgressDynamoDbEndpoint?.Properties).toEqual({
      VpcId: { Ref: "EgressVpc" },
      VpcEndpointType: "Gateway",
      ServiceName: { "Fn::Join": ["", ["com.amazonaws.", { Ref: "AWS::Region" }, ".dynamodb"]] },
      RouteTableIds: [{ Ref: "EgressPrivateRouteTable1" }],
    });
    // The address firms bind their keys to outlives a replaced or deleted stack.
    expect(t.Resources.EgressNatIp1).toMatchObject({
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
    });
  });

  it("gives exactly those functions' roles the ENI permissions (AWSLambdaVPCAccessExecutionRole), nothing else", () => {
    const t = templateOf(MANAGED);
    const withVpcAccess = resourcesOfType(t, "AWS::IAM::Role")
      .filter(([, r]) =>
        JSON.stringify(r.Properties.ManagedPolicyArns ?? []).includes("AWSLambdaVPCAccessExecutionRole"),
      )
      .map(([id]) => id)
      .sort();
    expect(withVpcAccess).toEqual(
      EXCHANGE_FUNCTIONS.map((id) => id.replace("LambdaFunction", "IamRoleLambdaExecution")),
    );
    for (const id of EXCHANGE_FUNCTIONS)
      expect(roleOf(t, id).Properties.ManagedPolicyArns).toEqual([VPC_ACCESS]);
  });

  it("outputs the Elastic IPs and hands them to the exchange-calling functions as KEYSHIFT_EGRESS_IPS", () => {
    const t = templateOf(MANAGED);
    const ips = { "Fn::Join": [",", [{ Ref: "EgressNatIp1" }]] };
    expect(outputOf(t)).toEqual(ips);
    for (const [id] of resourcesOfType(t, "AWS::Lambda::Function"))
      expect(envOf(t, id).KEYSHIFT_EGRESS_IPS).toEqual(EXCHANGE_FUNCTIONS.includes(id) ? ips : undefined);
  });

  it("spreads over more zones by parameter: a NAT gateway and an Elastic IP per zone, subnets at fixed offsets", () => {
    const t = templateOf(MANAGED_2);
    expect(resourcesOfType(t, "AWS::EC2::NatGateway").map(([id]) => id)).toEqual([
      "EgressNatGateway1",
      "EgressNatGateway2",
    ]);
    expect(outputOf(t)).toEqual({
      "Fn::Join": [",", [{ Ref: "EgressNatIp1" }, { Ref: "EgressNatIp2" }]],
    });
    expect(fn(t, "CreateNextLambdaFunction").Properties.VpcConfig).toMatchObject({
      SubnetIds: [{ Ref: "EgressPrivateSubnet1" }, { Ref: "EgressPrivateSubnet2" }],
    });
    // Adding a zone moves no existing subnet: subnet 1's block is the same in both templates.
    expect(t.Resources.EgressPrivateSubnet1?.Properties.CidrBlock).toEqual(
      templateOf(MANAGED).Resources.EgressPrivateSubnet1?.Properties.CidrBlock,
    );
  });

  it("changes nothing else: without the egress additions the template is the one packaged without the option", () => {
    const t = structuredClone(templateOf(MANAGED));
    for (const id of Object.keys(t.Resources)) if (id.startsWith("Egress")) delete t.Resources[id];
    for (const id of EXCHANGE_FUNCTIONS) {
      delete fn(t, id).Properties.VpcConfig;
      delete envOf(t, id).KEYSHIFT_EGRESS_IPS;
      roleOf(t, id).Properties.ManagedPolicyArns = [];
    }
    delete t.Outputs?.KeyshiftEgressIps;
    expect(masked(t)).toBe(masked(templateOf(BASE)));
  });
});

describe("fixed egress: --param egress=existing", () => {
  it("uses the given subnets and security group, creates no network, and outputs the given IPs", () => {
    const t = templateOf(EXISTING);
    expect(inVpc(t)).toEqual(EXCHANGE_FUNCTIONS);
    for (const id of EXCHANGE_FUNCTIONS) {
      expect(fn(t, id).Properties.VpcConfig).toEqual({ SecurityGroupIds: [GROUP], SubnetIds: SUBNETS });
      expect(envOf(t, id).KEYSHIFT_EGRESS_IPS).toBe(IPS);
      expect(roleOf(t, id).Properties.ManagedPolicyArns).toEqual([VPC_ACCESS]);
    }
    expect(Object.keys(t.Resources).filter((id) => id.startsWith("Egress"))).toEqual([]);
    expect(outputOf(t)).toBe(IPS);
  });
});

describe("fixed egress: bad input fails packaging naming the parameter", () => {
  it.each([
    [
      "missing subnets",
      ["egress=existing", `egressSecurityGroupIds=${GROUP}`, `egressIps=${IPS}`],
      "--param egressSubnetIds: egress=existing needs it",
    ],
    [
      "a malformed IP",
      [
        "egress=existing",
        `egressSubnetIds=${SUBNETS[0]}`,
        `egressSecurityGroupIds=${GROUP}`,
        "egressIps=203.0.113.300",
      ],
      '--param egressIps: "203.0.113.300" is not an IPv4 address',
    ],
  ])(
    "%s",
    async (_, params, message) => {
      const run = await packageWith(params);
      expect(run.code).not.toBe(0);
      expect(run.output).toContain(message);
    },
    120_000,
  );

  it.each([
    [{ mode: "nat" }, '--param egress: "nat" is not one of managed, existing'],
    [
      { mode: "existing", subnetIds: "subnet-12", securityGroupIds: GROUP, ips: IPS },
      '--param egressSubnetIds: "subnet-12" is not an id',
    ],
    [
      { mode: "existing", subnetIds: SUBNETS[0], ips: IPS },
      "--param egressSecurityGroupIds: egress=existing needs it",
    ],
    [
      { mode: "existing", subnetIds: SUBNETS[0], securityGroupIds: GROUP },
      "--param egressIps: egress=existing needs",
    ],
    [
      { mode: "existing", subnetIds: SUBNETS[0], securityGroupIds: GROUP, ips: "10.0.0.5" },
      "10.0.0.5 is not a public address",
    ],
    [
      { mode: "managed", azs: "7" },
      '--param egressAzs: "7" is not a number of availability zones from 1 to 6',
    ],
    [{ mode: "managed", cidr: "10.0.0.0/8" }, '--param egressCidr: "10.0.0.0/8" is not an IPv4 CIDR block'],
    [{ mode: "managed", ips: IPS }, "--param egressIps: has no effect with egress=managed"],
    [{ subnetIds: SUBNETS[0] }, "--param egressSubnetIds: has no effect without --param egress"],
  ])("refuses %j", (raw, message) => {
    expect(() => egressSettings(raw)).toThrow(message);
  });

  it("adds nothing without the option", () => {
    expect(
      egressSettings({ mode: "", azs: "", cidr: "", subnetIds: "", securityGroupIds: "", ips: "" }),
    ).toBeUndefined();
    expect(egressResources(undefined)).toEqual({ Resources: {} });
  });
});

describe("KEYSHIFT_EGRESS_IPS reaches the core's configuration", () => {
  const ENV = {
    AWS_REGION: "eu-west-1",
    KEYSHIFT_TABLE_CONSUMERS: "keyshift-dev-consumers",
    KEYSHIFT_TABLE_ROTATIONS: "keyshift-dev-rotations",
    KEYSHIFT_TABLE_LEDGER: "keyshift-dev-ledger",
    KEYSHIFT_TABLE_AUDIT: "keyshift-dev-audit",
    KEYSHIFT_ALERT_TOPIC_ARN: "arn:aws:sns:eu-west-1:111122223333:alerts",
    KEYSHIFT_ADMIN_SECRET_PREFIX: "keyshift/admin/",
    KEYSHIFT_REVOCATION_MAX_ATTEMPTS: "12",
    KEYSHIFT_REVOCATION_BASE_SECONDS: "60",
    KEYSHIFT_REVOCATION_CAP_SECONDS: "3600",
    KEYSHIFT_EXCHANGE_TIMEOUT_MS: "10000",
  };

  it("parses the list, and is absent without a fixed egress", () => {
    expect(
      loadConfig({ ...ENV, KEYSHIFT_EGRESS_IPS: " 203.0.113.10, 198.51.100.7 " }).KEYSHIFT_EGRESS_IPS,
    ).toEqual(["203.0.113.10", "198.51.100.7"]);
    expect(loadConfig(ENV).KEYSHIFT_EGRESS_IPS).toBeUndefined();
  });

  it("fails at cold start naming the variable when an entry is not an IPv4 address", () => {
    expect(() => loadConfig({ ...ENV, KEYSHIFT_EGRESS_IPS: "203.0.113.10,256.1.1.1" })).toThrow(
      "KEYSHIFT_EGRESS_IPS: 256.1.1.1 is not an IPv4 address",
    );
  });
});
