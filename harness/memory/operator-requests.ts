import type { OperatorRequest, RequestStatus } from "../../src/core/operator/approvals";
import type { OperatorRequests } from "../../src/core/ports";
import { copy } from "./copy";

/** The operator requests in memory, with the DynamoDB adapter's conditions (create once, move from the status read). */
export class InMemoryOperatorRequests implements OperatorRequests {
  private readonly requests = new Map<string, OperatorRequest>();

  async create(request: OperatorRequest): Promise<boolean> {
    if (this.requests.has(request.requestId)) return false;
    this.requests.set(request.requestId, copy(request));
    return true;
  }
  async get(requestId: string): Promise<OperatorRequest | undefined> {
    const found = this.requests.get(requestId);
    return found && copy(found);
  }
  async list(): Promise<OperatorRequest[]> {
    return [...this.requests.values()].map(copy).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }
  async transition(
    requestId: string,
    from: RequestStatus,
    changes: Partial<OperatorRequest> & { status: RequestStatus },
  ): Promise<boolean> {
    const found = this.requests.get(requestId);
    if (found?.status !== from) return false;
    this.requests.set(requestId, copy({ ...found, ...changes }));
    return true;
  }
}
