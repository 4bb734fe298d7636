import { InvalidInputError } from "../core/errors";

/**
 * `JSON.parse`, except that an object naming the same key twice is refused. JSON.parse keeps the
 * last one; a log parser, a WAF or a proxy may keep the first — and then they disagree with the
 * handler about which secret a heartbeat was for. Keys are compared after unescaping (`"\u0061"`
 * is `"a"`). Malformed JSON gets the caller's `malformed` message.
 */
export function parseJsonStrict(text: string, malformed: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidInputError(malformed);
  }
  const duplicate = firstDuplicateKey(text);
  if (duplicate !== undefined) {
    throw new InvalidInputError(
      `body names the key ${JSON.stringify(duplicate)} more than once: send each field once`,
    );
  }
  return value;
}

/** Scans text JSON.parse has accepted; returns the first key repeated within one object. */
function firstDuplicateKey(text: string): string | undefined {
  // One set of keys per open object, undefined per open array.
  const stack: (Set<string> | undefined)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "{") {
      stack.push(new Set());
      expectKey = true;
    } else if (c === "[") {
      stack.push(undefined);
      expectKey = false;
    } else if (c === "}" || c === "]") {
      stack.pop();
      expectKey = false;
    } else if (c === ",") {
      expectKey = stack.at(-1) !== undefined;
    } else if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        const keys = stack.at(-1);
        if (keys?.has(key)) return key;
        keys?.add(key);
        expectKey = false;
      }
      i = end;
    }
  }
  return undefined;
}
