/**
 * Secrets Manager names: 1–512 of letters, digits and `/_+=.@-`. The one definition the handlers'
 * schemas, the CLI's arguments and the enrollment rules use (the consumer SDK, which ships alone,
 * carries its own copy, checked equal by test/unit/consumer-sdk-parity.test.ts). A longer id would
 * also fail at DynamoDB's key size.
 */
export const SECRET_ID = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/** What `SECRET_ID` accepts, said for an error message. */
export const SECRET_ID_RULE = "1-512 characters of A-Z a-z 0-9 / _ + = . @ -";
