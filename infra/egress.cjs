"use strict";
/**
 * A fixed egress for the functions that call exchanges (docs/deploy.md, "Fixed egress").
 *
 * Exchanges bind trading keys to the firm's IP ranges, and keyshift verifies a new key by calling the
 * exchange with it; a Lambda outside a VPC has no fixed source address, so a bound key could never be
 * verified. `--param egress=managed` builds a VPC whose private subnets leave through NAT gateways
 * with Elastic IPs; `--param egress=existing` puts the functions in a VPC the firm already runs. Either
 * way the egress IPs are the stack output `KeyshiftEgressIps` and reach the exchange-calling functions
 * as `KEYSHIFT_EGRESS_IPS`. Without `egress` this file adds nothing: the template is today's.
 *
 * Two halves: `${file(infra/egress.cjs):resources}` (the network and the output, under `resources`)
 * and infra/egress-plugin.cjs (a function's `vpc` and environment variable, on the functions listed
 * in EXCHANGE_CALLERS, so osls compiles `VpcConfig` and serverless-iam-roles-per-function attaches
 * AWSLambdaVPCAccessExecutionRole to exactly their roles).
 *
 * CommonJS on purpose: osls `require()`s this file and the package is `"type": "module"`.
 */

/**
 * The functions whose use cases take the `exchange` port (src/commons/deps.ts's buildDeps; the
 * others compose without it): CreateNext (list, create, verify), RevokePrevious, AbortRotation (its
 * own keys), the sweeper, the hygiene audit (listings) and BeginRotation (an emergency's break-glass
 * revokes earlier keys before anything is created), the operator API (force-revoke, restore),
 * ProveDeleted (asks the exchange with a key a person deleted, which may be bound to the egress) and
 * the hourly misuse run (each account's logs, read with its admin key; key listings for last use;
 * stopping a retired key seen in use). Pinned by test/deploy/egress.test.ts.
 */
const EXCHANGE_CALLERS = [
  "beginRotation",
  "createNext",
  "revokePrevious",
  "abortRotation",
  "retryRevocations",
  "hygieneAudit",
  "operatorApi",
  "misuseHourly",
  "proveDeleted",
];

const MODES = ["managed", "existing"];
const MAX_AZS = 6;
const SUBNET = /^subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const SECURITY_GROUP = /^sg-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const CIDR = /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})\/(\d{1,2})$/;
/** Ranges an exchange can never see as a caller (RFC 1918, loopback, link-local, CGNAT, "this" network). */
const NOT_PUBLIC = [
  [10, 0, 8],
  [172, 16, 12],
  [192, 168, 16],
  [127, 0, 8],
  [169, 254, 16],
  [100, 64, 10],
  [0, 0, 8],
];

const list = (value) =>
  (Array.isArray(value) ? value : String(value ?? "").split(","))
    .map((v) => String(v).trim())
    .filter(Boolean);

const fail = (param, message) => {
  throw new Error(`--param ${param}: ${message}`);
};

function octets(ip) {
  const m = IPV4.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : undefined;
}

/** Compares the first 16 bits, enough for every range in NOT_PUBLIC. */
function isPublic([a, b]) {
  const top = (a << 8) | b;
  return !NOT_PUBLIC.some(([x, y, bits]) => {
    const mask = (0xffff << (16 - bits)) & 0xffff;
    return ((top ^ ((x << 8) | y)) & mask) === 0;
  });
}

function egressIps(value) {
  const ips = list(value);
  if (ips.length === 0)
    fail("egressIps", "egress=existing needs the VPC's egress IPs, e.g. 203.0.113.10,203.0.113.11");
  for (const ip of ips) {
    const parts = octets(ip);
    if (!parts) fail("egressIps", `${JSON.stringify(ip.slice(0, 60))} is not an IPv4 address (a.b.c.d)`);
    if (!isPublic(parts))
      fail(
        "egressIps",
        `${ip} is not a public address: an exchange sees the NAT's public IP, never a private one`,
      );
  }
  return [...new Set(ips)];
}

function ids(param, value, pattern, example) {
  const found = list(value);
  if (found.length === 0) fail(param, `egress=existing needs it, e.g. ${example}`);
  const bad = found.filter((v) => !pattern.test(v));
  if (bad.length > 0)
    fail(param, `${bad.map((b) => JSON.stringify(b.slice(0, 60))).join(", ")} is not an id like ${example}`);
  return [...new Set(found)];
}

function azCount(value) {
  const raw = String(value ?? "").trim() || "1";
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_AZS)
    fail(
      "egressAzs",
      `${JSON.stringify(raw.slice(0, 20))} is not a number of availability zones from 1 to ${MAX_AZS}`,
    );
  return n;
}

function vpcCidr(value) {
  const raw = String(value ?? "").trim() || "10.42.0.0/16";
  const m = CIDR.exec(raw);
  const prefix = m ? Number(m[2]) : Number.NaN;
  // 2 x MAX_AZS subnets of /24 at fixed offsets need at least a /20.
  if (!m || !octets(m[1]) || prefix < 16 || prefix > 20)
    fail(
      "egressCidr",
      `${JSON.stringify(raw.slice(0, 40))} is not an IPv4 CIDR block from /16 to /20, e.g. 10.42.0.0/16`,
    );
  return raw;
}

/** The `--param` behind each key of `custom.egress`. */
const PARAM = {
  mode: "egress",
  azs: "egressAzs",
  cidr: "egressCidr",
  subnetIds: "egressSubnetIds",
  securityGroupIds: "egressSecurityGroupIds",
  ips: "egressIps",
};

/** A parameter the mode ignores is a mistake (a half-edited command line), never silently dropped. */
function refuseOthers(mode, raw, keys) {
  for (const key of keys) {
    if (list(raw[key]).length > 0)
      fail(PARAM[key], `has no effect ${mode ? `with egress=${mode}` : "without --param egress"}: remove it`);
  }
}

/**
 * The validated egress settings, or undefined when no egress is asked for. Throws naming the
 * `--param` at fault.
 * @param {{ mode?: string, azs?: string, cidr?: string, subnetIds?: string, securityGroupIds?: string, ips?: string }} raw
 */
function egressSettings(raw = {}) {
  const mode = String(raw.mode ?? "").trim();
  if (mode === "") {
    refuseOthers("", raw, ["azs", "cidr", "subnetIds", "securityGroupIds", "ips"]);
    return undefined;
  }
  if (!MODES.includes(mode))
    fail(
      "egress",
      `${JSON.stringify(mode.slice(0, 40))} is not one of ${MODES.join(", ")} (or leave it unset)`,
    );
  if (mode === "managed") {
    refuseOthers(mode, raw, ["subnetIds", "securityGroupIds", "ips"]);
    return { mode, azs: azCount(raw.azs), cidr: vpcCidr(raw.cidr) };
  }
  refuseOthers(mode, raw, ["azs", "cidr"]);
  return {
    mode,
    subnetIds: ids("egressSubnetIds", raw.subnetIds, SUBNET, "subnet-0123456789abcdef0"),
    securityGroupIds: ids(
      "egressSecurityGroupIds",
      raw.securityGroupIds,
      SECURITY_GROUP,
      "sg-0123456789abcdef0",
    ),
    ips: egressIps(raw.ips),
  };
}

const tag = (name) => [{ Key: "Name", Value: { "Fn::Sub": `\${AWS::StackName}-${name}` } }];
const az = (i) => ({ "Fn::Select": [i, { "Fn::GetAZs": "" }] });
/** Fixed offsets: public i is /24 number i, private i number 8 + i, so adding a zone moves no subnet. */
const subnetCidr = (index) => ({
  "Fn::Select": [index, { "Fn::Cidr": [{ "Fn::GetAtt": ["EgressVpc", "CidrBlock"] }, 16, 8] }],
});
const zones = (settings) => Array.from({ length: settings.azs }, (_, i) => i + 1);

/** The managed network: one public and one private subnet, one NAT gateway and Elastic IP per zone. */
function managedResources(settings) {
  const R = {
    EgressVpc: {
      Type: "AWS::EC2::VPC",
      Properties: {
        CidrBlock: settings.cidr,
        EnableDnsSupport: true,
        EnableDnsHostnames: true,
        Tags: tag("egress"),
      },
    },
    EgressInternetGateway: { Type: "AWS::EC2::InternetGateway", Properties: { Tags: tag("egress") } },
    EgressInternetGatewayAttachment: {
      Type: "AWS::EC2::VPCGatewayAttachment",
      Properties: { VpcId: { Ref: "EgressVpc" }, InternetGatewayId: { Ref: "EgressInternetGateway" } },
    },
    EgressPublicRouteTable: {
      Type: "AWS::EC2::RouteTable",
      Properties: { VpcId: { Ref: "EgressVpc" }, Tags: tag("egress-public") },
    },
    EgressPublicDefaultRoute: {
      Type: "AWS::EC2::Route",
      DependsOn: "EgressInternetGatewayAttachment",
      Properties: {
        RouteTableId: { Ref: "EgressPublicRouteTable" },
        DestinationCidrBlock: "0.0.0.0/0",
        GatewayId: { Ref: "EgressInternetGateway" },
      },
    },
    // HTTPS out, nothing in: the exchanges and the AWS APIs are all on 443 (DNS goes to the VPC's
    // resolver, which security groups do not filter).
    EgressSecurityGroup: {
      Type: "AWS::EC2::SecurityGroup",
      Properties: {
        GroupDescription: "keyshift exchange-calling functions: HTTPS out only",
        VpcId: { Ref: "EgressVpc" },
        SecurityGroupEgress: [{ IpProtocol: "tcp", FromPort: 443, ToPort: 443, CidrIp: "0.0.0.0/0" }],
        Tags: tag("egress"),
      },
    },
    // DynamoDB without the NAT: a gateway endpoint has no hourly or per-GB charge.
    EgressDynamoDbEndpoint: {
      Type: "AWS::EC2::VPCEndpoint",
      Properties: {
        VpcId: { Ref: "EgressVpc" },
        VpcEndpointType: "Gateway",
        ServiceName: { "Fn::Join": ["", ["com.amazonaws.", { Ref: "AWS::Region" }, ".dynamodb"]] },
        RouteTableIds: zones(settings).map((i) => ({ Ref: `EgressPrivateRouteTable${i}` })),
      },
    },
  };
  for (const i of zones(settings)) {
    R[`EgressPublicSubnet${i}`] = {
      Type: "AWS::EC2::Subnet",
      Properties: {
        VpcId: { Ref: "EgressVpc" },
        AvailabilityZone: az(i - 1),
        CidrBlock: subnetCidr(i - 1),
        Tags: tag(`egress-public-${i}`),
      },
    };
    R[`EgressPublicSubnet${i}RouteTableAssociation`] = {
      Type: "AWS::EC2::SubnetRouteTableAssociation",
      Properties: {
        SubnetId: { Ref: `EgressPublicSubnet${i}` },
        RouteTableId: { Ref: "EgressPublicRouteTable" },
      },
    };
    R[`EgressPrivateSubnet${i}`] = {
      Type: "AWS::EC2::Subnet",
      Properties: {
        VpcId: { Ref: "EgressVpc" },
        AvailabilityZone: az(i - 1),
        CidrBlock: subnetCidr(8 + i - 1),
        Tags: tag(`egress-private-${i}`),
      },
    };
    // Retained: the address is what the firm binds its keys to; a replaced stack must not lose it.
    R[`EgressNatIp${i}`] = {
      Type: "AWS::EC2::EIP",
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
      DependsOn: "EgressInternetGatewayAttachment",
      Properties: { Domain: "vpc", Tags: tag(`egress-${i}`) },
    };
    R[`EgressNatGateway${i}`] = {
      Type: "AWS::EC2::NatGateway",
      Properties: {
        AllocationId: { "Fn::GetAtt": [`EgressNatIp${i}`, "AllocationId"] },
        SubnetId: { Ref: `EgressPublicSubnet${i}` },
        Tags: tag(`egress-${i}`),
      },
    };
    R[`EgressPrivateRouteTable${i}`] = {
      Type: "AWS::EC2::RouteTable",
      Properties: { VpcId: { Ref: "EgressVpc" }, Tags: tag(`egress-private-${i}`) },
    };
    R[`EgressPrivateDefaultRoute${i}`] = {
      Type: "AWS::EC2::Route",
      Properties: {
        RouteTableId: { Ref: `EgressPrivateRouteTable${i}` },
        DestinationCidrBlock: "0.0.0.0/0",
        NatGatewayId: { Ref: `EgressNatGateway${i}` },
      },
    };
    R[`EgressPrivateSubnet${i}RouteTableAssociation`] = {
      Type: "AWS::EC2::SubnetRouteTableAssociation",
      Properties: {
        SubnetId: { Ref: `EgressPrivateSubnet${i}` },
        RouteTableId: { Ref: `EgressPrivateRouteTable${i}` },
      },
    };
  }
  return R;
}

/** The egress IPs as one comma-separated value (a CloudFormation expression when they are the stack's). */
function egressIpsValue(settings) {
  if (settings.mode === "existing") return settings.ips.join(",");
  return { "Fn::Join": [",", zones(settings).map((i) => ({ Ref: `EgressNatIp${i}` }))] };
}

/** What each exchange-calling function gets: osls's function `vpc` and the egress IPs. */
function egressFunctionConfig(settings) {
  if (settings.mode === "existing") {
    return {
      vpc: { subnetIds: settings.subnetIds, securityGroupIds: settings.securityGroupIds },
      ips: egressIpsValue(settings),
    };
  }
  return {
    vpc: {
      subnetIds: zones(settings).map((i) => ({ Ref: `EgressPrivateSubnet${i}` })),
      securityGroupIds: [{ Ref: "EgressSecurityGroup" }],
    },
    ips: egressIpsValue(settings),
  };
}

/** The CloudFormation fragment: the network (managed only) and the `KeyshiftEgressIps` output. */
function egressResources(settings) {
  if (!settings) return { Resources: {} };
  return {
    Resources: settings.mode === "managed" ? managedResources(settings) : {},
    Outputs: {
      KeyshiftEgressIps: {
        Description:
          "keyshift's egress IPs: bind every exchange key keyshift rotates, and its admin key, to them",
        Value: egressIpsValue(settings),
      },
    },
  };
}

/** The keys of serverless.yml's `custom.egress` block. */
const EGRESS_KEYS = Object.keys(PARAM);

module.exports = {
  EXCHANGE_CALLERS,
  egressSettings,
  egressResources,
  egressFunctionConfig,
  EGRESS_KEYS,
  /** `${file(infra/egress.cjs):resources}`: settings from `custom.egress`. */
  resources: async ({ resolveVariable }) => {
    const raw = {};
    for (const key of EGRESS_KEYS) raw[key] = await resolveVariable(`self:custom.egress.${key}`);
    return egressResources(egressSettings(raw));
  },
};
