// Go's encoding/json Decoder reads one JSON value and reports syntax errors in
// its own words ("invalid character 'x' after object key"); JSON.parse does
// neither, so this scanner finds the first value's end or Go's message. Pure.

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

/** Scans the first JSON value in `text`, like json.Decoder.Decode (trailing data is not read). */
export function scanJson(text: string): ScanResult {
  let i = 0;
  let depth = 0;
  const fail = (context: string): never => {
    throw new SyntaxFailure(i >= text.length ? "unexpected EOF" : `invalid character ${quoteChar(text[i] ?? "")} ${context}`);
  };
  const space = (): void => {
    while (i < text.length && " \t\r\n".includes(text[i] ?? "")) i++;
  };
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
