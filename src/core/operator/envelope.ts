/**
 * One operator command as the CLI sends it to the operator API: the command's words, the command
 * line after them (parsed again, by the same code, where it executes), the files it reads (the
 * enrollment file, by the path the line names) and a key that makes a retried request harmless.
 * Who sends it is never in it: the front door authenticated that.
 */
export interface CommandEnvelope {
  command: string;
  args: string[];
  files?: Record<string, string>;
  /**
   * What the command reads on standard input: the key a person made (`keys provide`), read by the
   * CLI from the file or the stdin it was given. Never stored, logged or echoed: no request keeps
   * an envelope that has it (`openRequest` refuses), and the command's output never repeats it.
   */
  stdin?: string;
  note?: string;
  idempotencyKey: string;
}

/** A key is a few hundred characters (Kraken's: about 150); what an envelope's `stdin` may carry. */
export const MAX_ENVELOPE_STDIN_CHARS = 16 * 1024;
