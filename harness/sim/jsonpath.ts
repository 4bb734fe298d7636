/**
 * The JSONPath subset of Amazon States Language the interpreter needs: `$`, `$$` (context),
 * `.field`, `['field']`, `[index]`; payload templates with `.$` keys; ResultPath writes.
 * A path that points nowhere raises `States.Runtime` (not retryable, not catchable), and a
 * ResultPath into a non-object raises `States.ResultPathMatchFailure`, as the service does.
 */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** An error raised by the interpreter itself, named as Step Functions names it. */
export class StatesError extends Error {
  constructor(
    name: string,
    message: string,
    /** States.Runtime can be neither retried nor caught, even by States.ALL. */
    readonly handleable = true,
  ) {
    super(message);
    this.name = name;
  }
}

export function runtimeError(message: string): StatesError {
  return new StatesError("States.Runtime", message, false);
}

const SEGMENT = /^(?:\.([A-Za-z0-9_\-$@]+)|\['([^']*)'\]|\[(\d+)\])/;

function segments(path: string): (string | number)[] {
  let rest = path;
  const out: (string | number)[] = [];
  while (rest.length > 0) {
    const m = SEGMENT.exec(rest);
    if (!m) throw runtimeError(`unsupported JSONPath '${path}' (the simulator knows $.a.b, ['a'], [0])`);
    out.push(m[3] !== undefined ? Number(m[3]) : (m[1] ?? m[2] ?? ""));
    rest = rest.slice(m[0].length);
  }
  return out;
}

function isPlainObject(value: unknown): value is { [k: string]: Json } {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Message as the service (and aws-local-stepfunctions) words it: the name only. */
function resultPathFailure(): StatesError {
  return new StatesError("States.ResultPathMatchFailure", "States.ResultPathMatchFailure");
}

/** Reads `path` from the state input (`$…`) or the context object (`$$…`). */
export function queryPath(path: string, input: Json, context: Json): Json {
  const fromContext = path.startsWith("$$");
  const root = fromContext ? context : input;
  const tail = fromContext ? path.slice(2) : path.slice(1);
  if (!path.startsWith("$")) throw runtimeError(`JSONPath '${path}' must start with $`);
  let node: Json | undefined = root;
  for (const seg of segments(tail)) {
    if (typeof seg === "number") node = Array.isArray(node) ? node[seg] : undefined;
    else node = isPlainObject(node) ? node[seg] : undefined;
    if (node === undefined) break;
  }
  if (node === undefined) throw runtimeError(`Path expression '${path}' does not point to a value`);
  return node;
}

/** Parameters / ResultSelector: keys ending in `.$` take the value their path points to. */
export function applyTemplate(template: Json, input: Json, context: Json): Json {
  if (Array.isArray(template)) return template.map((t) => applyTemplate(t, input, context));
  if (!isPlainObject(template)) return template;
  const out: { [k: string]: Json } = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith(".$") && typeof value === "string") {
      if (!value.startsWith("$")) {
        throw runtimeError(`intrinsic function '${value}' is not supported by the simulator's interpreter`);
      }
      out[key.slice(0, -2)] = queryPath(value, input, context);
    } else {
      out[key] = applyTemplate(value, input, context);
    }
  }
  return out;
}

/** InputPath / OutputPath: absent keeps everything, null gives `{}`. */
export function selectPath(path: string | null | undefined, value: Json, context: Json): Json {
  if (path === undefined) return value;
  if (path === null) return {};
  return queryPath(path, value, context);
}

/** ResultPath: absent replaces the input, null discards the result, `$.a.b` writes into a copy. */
export function applyResultPath(path: string | null | undefined, rawInput: Json, result: Json): Json {
  if (path === undefined || path === "$") return result;
  if (path === null) return rawInput;
  if (!isPlainObject(rawInput)) {
    throw resultPathFailure();
  }
  const segs = segments(path.slice(1));
  const copy = structuredClone(rawInput);
  let node: { [k: string]: Json } = copy;
  for (const [i, seg] of segs.entries()) {
    if (typeof seg === "number") {
      throw resultPathFailure();
    }
    if (i === segs.length - 1) {
      node[seg] = result;
      break;
    }
    const child = node[seg];
    if (child === undefined) {
      const created: { [k: string]: Json } = {};
      node[seg] = created;
      node = created;
    } else if (isPlainObject(child)) {
      node = child;
    } else {
      throw resultPathFailure();
    }
  }
  return copy;
}
