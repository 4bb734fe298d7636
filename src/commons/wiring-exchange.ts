import { DynamoRequestBudget } from "../adapters/dynamodb/request-budget";
import { BudgetedExchange } from "../adapters/exchange/budgeted";
import { EXCHANGE_PROTOCOLS } from "../adapters/exchange/protocols";
import { ExchangeRouter } from "../adapters/exchange/router";
import { dynamo, type Part, secretsManager } from "./wiring";

/**
 * The exchange port: the router over the real exchanges' protocols, reading admin credentials
 * through the shared Secrets Manager adapter, behind each account's shared request budget. Its own module, so that a handler that never calls
 * an exchange does not load the exchange adapters (see ./wiring.ts).
 */
export const exchange: Part<BudgetedExchange> = (w) =>
  new BudgetedExchange(
    new ExchangeRouter(w.shared(secretsManager), w.config.KEYSHIFT_ADMIN_SECRET_PREFIX, EXCHANGE_PROTOCOLS, {
      timeoutMs: w.config.KEYSHIFT_EXCHANGE_TIMEOUT_MS,
    }),
    // Every account's request budget, one item each in the rotations table (docs/exchanges.md,
    // "Request budget").
    new DynamoRequestBudget(w.shared(dynamo), w.config.KEYSHIFT_TABLE_ROTATIONS),
  );
