/** `keyshift --help`. Kept next to the command table (commands/index.ts); test/unit/cli.test.ts checks they agree. */
export const USAGE = `keyshift — consumer-aware rotation of exchange API keys

usage: keyshift <command> [args] [--json]
  list [--config FILE] [--limit N] [--next-token T]
                                 enrolled secrets, a page at a time (100 unless --limit, at most 1000;
                                 the next page's token ends the output): rotation state, last rotation,
                                 lagging consumers, open revocations, schedule (from the enrollment file)
  enroll <secretId> [--config FILE] [--purpose "..."] [--ticket REF]
                                 record the entry's settings and the current fingerprint, create its
                                 rotation schedule (EventBridge Scheduler), and the provisioning record
                                 (posted to KEYSHIFT_PROVISIONING_WEBHOOK_URL if set)
  apply [--config FILE] [--dry-run] [--prune]
                                 make every declared secret's settings and schedule what the file says:
                                 the diff (create/update/unchanged), 8 at a time, safe to re-run after a
                                 crash; --prune deletes the rotation schedules of secrets not declared
  register-consumer <secretId> --consumer ID --principal ROLE_ARN
        [--cache-ttl S] [--heartbeat-interval S] [--required true|false] [--config FILE]
                                 register a consumer or change one; an omitted option keeps its current
                                 setting (a new one: the entry's consumer block). During a rotation a
                                 change that makes the gate wait less is refused
  consumers register <secretId> ...   the same as register-consumer
  consumers list <secretId>      the registered consumers and where their instances are
  consumers remove <secretId> <consumerId> --reason "..."
                                 take a consumer out of the registry (refused while a rotation holds the lock)
  rotate <secretId> [--wait] [--compromised --reason "..."]
                                 start a rotation (Step Functions StartExecution, trigger "manual");
                                 --wait polls until it ends; --compromised: emergency rotation (no
                                 overlap; the previous key dies by emergencyDeadlineSeconds, default 120,
                                 even if consumers lag — audited with the reason, alerted); on a secret
                                 a promoted or stalled rotation holds, it escalates that rotation; earlier
                                 keys still in the ledger are revoked first, or it refuses saying why
  resume <secretId> [--wait]     resume a stalled rotation (new execution, mode "resume")
  status <secretId>              versions, lock, consumers (who lags, on which fingerprint), ledger
  audit verify <secretId>        recompute the audit hash chain, compare the table with the archive
  revocations list               every ledger entry (pending / revoked / failed, needs operator)
  revocations retry <entryId>    put a flagged entry back in the sweeper's queue
  revocations restore <entryId> --reason "..."
                                 enable a disabled previous key again, within its grace (Deribit)
  hygiene                        the credential hygiene audit: findings with severity and fix
                                 (exit 1 when any is high)
  force-revoke <secretId> --reason "..."   revoke the previous key now (stalled rotation only)
  rollback <secretId> --reason "..."       move AWSCURRENT back while the previous key is valid
  misuse replay <file>           the misuse detector over a recorded JSON-lines file (docs/misuse.md),
                                 offline: no KEYSHIFT_* environment; the last stdout line lists the
                                 findings (exit 1 when a line is rejected: each is named on stderr)
  misuse report [--since D]      the misuse detector over the stored aggregates (consumers' usage, the
                                 exchange side where stored): findings with id, severity, evidence and
                                 the command to act; D: 2026-12-01, an ISO time, or 36h / 7d (default 24h);
                                 exit 1 when an open finding is critical or high
  misuse ack <finding-id> --reason "..." [--until D]
                                 acknowledge a finding until D (default 7d, at most 90 days), audited
  exposure <principal>           every enrolled secret the principal ever read (read audit), and which
                                 are still exposed (not rotated since its last read)
  exposure rotate <principal> --reason "..."
                                 an emergency rotation of each of those, four at a time
  evidence --from YYYY-MM-DD --to YYYY-MM-DD --out DIR [--secret ID]
                                 the evidence for an auditor, over whole UTC days: DIR/evidence.json and a
                                 self-contained DIR/index.html (per secret its rotations as timelines, who
                                 read it, approvals, hygiene findings and their resolution, the audit
                                 verification); reads only; refuses to overwrite another period's evidence
  tasks list                     open manual tasks (keys a person must make or delete on an exchange
                                 without a key API, e.g. Kraken), each with the exact request and deadline
  keys provide <taskId> --from-file FILE | --stdin
                                 hand over the key a person made ({"keyId","secret"}): checked (it
                                 authenticates, exactly the scope and binding asked for), stored as the
                                 next version, the rotation resumed; never as an argument. Read in
                                 this shell, run by the operator API (KEYSHIFT_OPERATOR_API_URL)
  keys confirm-deleted <taskId|entryId>
                                 a person deleted the key keyshift asked for: where the exchange can tell,
                                 it must fail to authenticate first; then revoked and the rotation resumed
  approvals list                 requests waiting for a second principal, and emergency reviews
  approvals approve <requestId>  approve another principal's request: its command executes, once
  approvals deny <requestId>     refuse another principal's request: nothing executes
  approvals sign-off <reviewId>  sign off another principal's emergency rotation after the fact

Options: --json prints exactly one JSON value on stdout: the result, or {"error": {code, kind, name,
message}} (the message also goes to stderr); rotate/resume --wait print how the execution ended, whatever
the exit code. --help, -h: this text. FILE defaults to rotation.config.yml. --note "..." (every
writing command): why, for the audit and the approver; --ticket REF: the change ticket.
Numbers are plain decimal seconds: --cache-ttl 0-604800, --heartbeat-interval 1-86400.

Exit codes:
  0   done (rotate --wait: the rotation ended with the previous key revoked)
  1   the command failed: refused by a rule, an AWS error, an execution that failed; hygiene: a
      high finding
  2   rotate/resume --wait: the rotation stalled or parked; the previous key is kept (status, then
      resume, force-revoke or rollback)
  3   audit verify: the chain does not verify, or the table and the archive disagree; evidence: an
      audit trail does not verify (evidence still writes its files)
  4   rotate/resume --wait: the new key is current but the previous key was NOT revoked; its ledger
      entry is named (the sweeper retries it, or it needs an operator)
  5   the stage puts the command under the two-person rule: a request is open (its id printed), nothing
      executed; a different principal runs \`keyshift approvals approve <requestId>\`
  64  usage: unknown command or option, missing or invalid argument
  78  configuration: KEYSHIFT_* environment, AWS credentials (who is calling) or the enrollment file
      missing or invalid

Environment: the same KEYSHIFT_* variables the Lambdas read (see src/commons/config.ts), plus
KEYSHIFT_STATE_MACHINE_ARN for rotate/resume. The audit names the caller's AWS principal (STS
GetCallerIdentity on the shell's credentials); no typed name is trusted. With KEYSHIFT_OPERATOR_API_URL
(stack output OperatorApiUrl) every writing command executes on the operator API, signed with the
shell's credentials, and the audit names the principal the API authenticated; reads stay direct.`;
