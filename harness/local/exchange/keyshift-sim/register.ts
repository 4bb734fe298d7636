/**
 * `node --import tsx --import ./harness/local/exchange/keyshift-sim/register.ts bin/keyshift.mjs …`:
 * the real CLI, in its own process, speaking the local stack's test protocol as well (the tests'
 * operator runs it against keyshift-sim accounts; what ships never loads this).
 */
import { registerKeyshiftSim } from "./protocol";

registerKeyshiftSim();
