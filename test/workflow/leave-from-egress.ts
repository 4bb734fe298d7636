/**
 * Preloaded into a CLI process (`--import`): its connections leave from keyshift's egress, as a shell
 * on a host inside the egress VPC would. Nothing ships with it.
 */
import { EGRESS_IP, leaveFrom } from "../../harness/local/exchange/caller-address";

leaveFrom(EGRESS_IP);
