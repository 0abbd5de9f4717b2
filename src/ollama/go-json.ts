// How Go's encoding/json reads a request body, as Ollama decodes every one of them: one value
// (trailing data is not read), syntax errors in the decoder's own words ("invalid character
// 'x' looking for beginning of value", "unexpected EOF"), a value of the wrong kind named as
// Go names it. The simulator answers with these words as Ollama does, and foreman's edge
// answers a body it cannot queue with the same words (ADR 0019). Pure.

export type ScanResult = { end: number } | { error: string };

class SyntaxFailure extends Error {}

/** Go's quoteChar: the offending character in single quotes. */
function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return "'\"'";
  return `'${JSON.stringify(c).slice(1, -1)}'`;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";

/** Go's maxNestingDepth: a deeper value is a syntax error, not a stack overflow. */
const MAX_NESTING_DEPTH = 10_000;

/** Runs the scanner skips in one native step: JSON whitespace, and string characters that need no look. */
const SPACE = /[ \t\r\n]*/y;
const PLAIN = /[^"\\\u0000-\u001f]*/y;

/** Scans the first JSON value in `text`, like json.Decoder.Decode (trailing data is not read). */
export function scanJson(text: string): ScanResult {
  let i = 0;
  let depth = 0;
  const fail = (context: string): never => {
    throw new SyntaxFailure(i >= text.length ? "unexpected EOF" : `invalid character ${quoteChar(text[i] ?? "")} ${context}`);
  };
  const skip = (run: RegExp): void => {
    run.lastIndex = i;
    run.test(text);
    i = run.lastIndex;
  };
  const space = (): void => skip(SPACE);
  const digits = (context: string): void => {
    if (!isDigit(text[i])) fail(context);
    while (isDigit(text[i])) i++;
  };
  const number = (): void => {
    if (text[i] === "-") i++;
    if (text[i] === "0") i++;
    else digits("in numeric literal");
    if (text[i] === ".") {
      i++;
      digits("after decimal point in numeric literal");
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      digits("in exponent of numeric literal");
    }
  };
  const string = (): void => {
    i++;
    for (;;) {
      skip(PLAIN);
      const c = text[i];
      if (c === undefined) fail("");
      else if (c === '"') {
        i++;
        return;
      } else if (c === "\\") {
        i++;
        const e = text[i];
        if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else if (e === "u") {
          i++;
          for (let k = 0; k < 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i] ?? "")) fail("in \\u hexadecimal character escape");
            i++;
          }
        } else fail("in string escape code");
      } else if (c < " ") fail("in string literal");
      else i++;
    }
  };
  const literal = (word: string): void => {
    for (let k = 0; k < word.length; k++, i++) {
      if (text[i] !== word[k]) fail(`in literal ${word} (expecting ${quoteChar(word[k] ?? "")})`);
    }
  };
  const value = (): void => {
    space();
    const c = text[i];
    if ((c === "{" || c === "[") && ++depth > MAX_NESTING_DEPTH) fail("exceeded max depth");
    if (c === "{") {
      i++;
      space();
      if (text[i] === "}") {
        i++;
        depth--;
        return;
      }
      for (;;) {
        space();
        if (text[i] !== '"') fail("looking for beginning of object key string");
        string();
        space();
        if (text[i] !== ":") fail("after object key");
        i++;
        value();
        space();
        if (text[i] === ",") i++;
        else if (text[i] === "}") {
          i++;
          depth--;
          return;
        } else fail("after object key:value pair");
      }
    }
    if (c === "[") {
      i++;
      space();
      if (text[i] === "]") {
        i++;
        depth--;
        return;
      }
      for (;;) {
        value();
        space();
        if (text[i] === ",") i++;
        else if (text[i] === "]") {
          i++;
          depth--;
          return;
        } else fail("after array element");
      }
    }
    if (c === '"') return string();
    if (c === "-" || isDigit(c)) return number();
    const word = ["true", "false", "null"].find((w) => w[0] === c);
    if (word) return literal(word);
    fail("looking for beginning of value");
  };
  try {
    value();
    return { end: i };
  } catch (err) {
    if (err instanceof SyntaxFailure) return { error: err.message };
    throw err;
  }
}

/** The JSON kind name Go's decoder uses in "cannot unmarshal X" messages. */
export function jsonKind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "boolean") return "bool";
  return typeof value;
}

export type DecodedBody = { ok: true; body: Record<string, unknown> } | { ok: false; empty: boolean; error: string };

/**
 * json.NewDecoder(body).Decode(&req) into a struct of Go type `goType` (e.g. "api.ChatRequest"):
 * an empty body (nothing but JSON whitespace) is io.EOF, which each handler words its own way;
 * a syntax error is the decoder's text; `null` leaves the struct empty; any other value that is
 * not an object cannot be unmarshalled; nor can a number beyond a float64 (1e999).
 */
export function decodeGoBody(text: string, goType: string): DecodedBody {
  if (/^[ \t\r\n]*$/.test(text)) return { ok: false, empty: true, error: "EOF" };
  const scanned = scanJson(text);
  if ("error" in scanned) return { ok: false, empty: false, error: scanned.error };
  const value: unknown = JSON.parse(text.slice(0, scanned.end));
  // null into a struct has no effect and is no error: the request is all zero values
  if (value === null) return { ok: true, body: {} };
  if (typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, empty: false, error: `json: cannot unmarshal ${jsonKind(value)} into Go value of type ${goType}` };
  }
  const overflow = overflowingNumber(text.slice(0, scanned.end));
  if (overflow) {
    // the field is the struct's (a map's keys are not named); what a number lands in is a float64
    const struct = goType.slice(goType.indexOf(".") + 1);
    return { ok: false, empty: false, error: `json: cannot unmarshal number ${overflow.literal} into Go struct field ${struct}.${overflow.field} of type float64` };
  }
  return { ok: true, body: value as Record<string, unknown> };
}

/** A JSON token: a string, a number, or punctuation (true, false and null are skipped). */
const TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[{}[\]:]/g;

/**
 * The first number in `json` (a valid object) beyond a float64 — `1e999`, which JSON.parse
 * reads as Infinity and Go's decoder refuses — and the top-level field it is in; null when none.
 */
function overflowingNumber(json: string): { literal: string; field: string } | null {
  // only an exponent of three digits or 309 digits reach past a float64: most bodies are not scanned
  if (!/\d[eE]\+?\d{3}|\d{309}/.test(json)) return null;
  let depth = 0;
  let field = "";
  let last = "";
  for (const [token] of json.matchAll(TOKEN)) {
    const c = token[0];
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
    else if (c === ":") field = depth === 1 ? last : field;
    else if (c === '"') last = JSON.parse(token) as string;
    else if (!Number.isFinite(Number(token))) return { literal: token, field };
  }
  return null;
}

/**
 * The decode error for a field of the wrong kind in struct `structName` (no package: "Go struct
 * field ChatRequest.model of type string"), or undefined; absent and null pass, as in Go.
 */
export function fieldKindError(body: Record<string, unknown>, structName: string, field: string, kind: "string" | "bool" | "number" | "array" | "object", fieldType: string = kind): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  const actual = jsonKind(value);
  if (actual === kind) return undefined;
  return `json: cannot unmarshal ${actual} into Go struct field ${structName}.${field} of type ${fieldType}`;
}
