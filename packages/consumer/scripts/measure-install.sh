#!/bin/bash
# What a trading service gets when it installs the SDK: packs it, installs the tarball into a fresh
# TypeScript app, counts packages and bytes, then compiles and runs a small app that loads a value,
# heartbeats (checking the SigV4 signature is there) and stops.
#   packages/consumer/scripts/measure-install.sh [tarball] [import specifier]
# With no tarball it packs this package first. Run from the repository root.
set -euo pipefail
WORK=$(mktemp -d)
TARBALL=${1:-}
SPEC=${2:-@keyshift/consumer}
if [ -z "$TARBALL" ]; then
  npm pack -w @keyshift/consumer --pack-destination "$WORK" --silent >/dev/null
  TARBALL=$(ls "$WORK"/*.tgz)
fi
APP="$WORK/app"
mkdir -p "$APP" && cd "$APP"
npm init -y >/dev/null && npm pkg set type=module
npm i --no-audit --no-fund "$TARBALL" typescript@5.9.3 2>&1 | grep -E "^added"
all=$(npm ls --all --parseable 2>/dev/null | tail -n +2)
echo "installed packages: $(echo "$all" | wc -l) ($(echo "$all" | grep -vc '/typescript$') without typescript)"
echo "node_modules: $(du -sh node_modules | cut -f1) ($(du -sh node_modules/typescript | cut -f1) of it typescript)"
echo "without typescript: $(du -sck $(echo "$all" | grep -v '/typescript$') | tail -1 | cut -f1) KB"
cat >app.ts <<TS
import { createConsumer, fingerprint } from "$SPEC";

const value = JSON.stringify({ keyId: "k-1", secret: "s" });
const consumer = createConsumer({
  secretId: "keyshift/exchange/acme/trading",
  endpoint: "https://heartbeat.example.test/heartbeats",
  region: "eu-west-1",
  credentials: { accessKeyId: "ASIAEXAMPLE", secretAccessKey: "x", sessionToken: "t" },
  secretsManagerClient: { send: async () => ({ SecretString: value, \$metadata: {} }) },
  fetchImpl: async (_url, init) => {
    const auth = new Headers(init?.headers as Record<string, string>).get("authorization") ?? "";
    console.log("signed:", auth.startsWith("AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/"));
    return new Response(JSON.stringify({ status: "current", refreshNow: false, nextHeartbeatSeconds: 60 }));
  },
});
const held = await consumer.getSecret();
await consumer.heartbeatNow();
const s = consumer.status();
console.log("fingerprint ok:", s.fingerprint === fingerprint(held), "heartbeats:", s.heartbeats);
await consumer.stop();
TS
cat >tsconfig.json <<TS
{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext",
  "strict": true, "lib": ["ES2022", "DOM"], "skipLibCheck": true, "outDir": "out" } }
TS
npx tsc -p tsconfig.json && node out/app.js
echo "app: $APP"
