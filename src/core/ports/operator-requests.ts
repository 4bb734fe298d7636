/** The operator plane's own records: requests awaiting a second principal, and after-the-fact reviews. */
import type { OperatorRequest, RequestStatus } from "../operator/approvals";

export interface OperatorRequests {
  /** Stores a new record; false (nothing written) when one with its id exists already. */
  create(request: OperatorRequest): Promise<boolean>;
  get(requestId: string): Promise<OperatorRequest | undefined>;
  /** Every record, newest first. */
  list(): Promise<OperatorRequest[]>;
  /**
   * The one state transition: writes `changes` only while the stored status is still `from`
   * (a conditional write), and returns whether it did. Two approvers racing: one wins.
   */
  transition(
    requestId: string,
    from: RequestStatus,
    changes: Partial<OperatorRequest> & { status: RequestStatus },
  ): Promise<boolean>;
}
