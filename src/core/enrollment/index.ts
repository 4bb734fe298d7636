/**
 * The enrollment rules (what an entry of `rotation.config.yml` must satisfy), written once: every
 * CLI command that reads the file runs them (`enroll`, `apply`, `register-consumer`, `list`).
 */
export { CONSUMER_BOUNDS, SECRET_PREFIX } from "./fields";
export {
  type ConsumerDefaults,
  type EnrolledSecret,
  type Enrollment,
  EnrollmentConfigError,
  type WorkflowLimits,
} from "./model";
export { LEASE_MARGIN_SECONDS, scheduleMeetsRotationProblem, scheduleProblem } from "./schedule-rules";
export { DEFAULT_CONFIG_PATH, validateEnrollment } from "./validate";
export {
  deadlineBound,
  historyBudgetProblem,
  overlapNeededSeconds,
  overlapProblem,
  waitLoopEvents,
} from "./wait-rules";
