import type { CommandSpec } from "../command";
import { apply } from "./apply";
import { approvalsApprove, approvalsDeny, approvalsList, approvalsSignOff } from "./approvals";
import { auditVerify } from "./audit";
import { consumersList, consumersRemove } from "./consumers";
import { consumersRegister, enroll, registerConsumerCommand } from "./enroll";
import { evidence } from "./evidence";
import { exposure, exposureRotate } from "./exposure";
import { hygiene } from "./hygiene";
import { list } from "./list";
import { keysConfirmDeleted, keysProvide, tasksList } from "./manual";
import { misuseReplay } from "./misuse";
import { misuseAckCommand, misuseReportCommand } from "./misuse-report";
import { forceRevokeCommand, rollbackCommand } from "./operator";
import { revocationsList, revocationsRestore, revocationsRetry } from "./revocations";
import { resume, rotate } from "./rotate";
import { status } from "./status";

/** Every command, by its words. */
export const COMMANDS: CommandSpec<unknown>[] = [
  list,
  enroll,
  apply,
  registerConsumerCommand,
  consumersRegister,
  consumersList,
  consumersRemove,
  rotate,
  resume,
  status,
  auditVerify,
  revocationsList,
  revocationsRetry,
  revocationsRestore,
  hygiene,
  forceRevokeCommand,
  rollbackCommand,
  misuseReplay,
  misuseReportCommand,
  misuseAckCommand,
  exposure,
  exposureRotate,
  evidence,
  tasksList,
  keysProvide,
  keysConfirmDeleted,
  approvalsList,
  approvalsApprove,
  approvalsDeny,
  approvalsSignOff,
];
