/** Domain vocabulary shared by the use cases. Nothing here ever holds a secret value. */
export * from "./audit";
export * from "./consumer";
export * from "./ledger";
export * from "./manual";
export * from "./rotation";
export * from "./secret";
