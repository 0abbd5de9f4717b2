import { describe, expect, test } from "bun:test";
import { decodeGoBody, fieldKindError, scanJson } from "../../src/ollama/go-json.ts";

describe("Go's decoder", () => {
  test("syntax errors in the decoder's own words", () => {
    expect(scanJson('{"model": x}')).toEqual({ error: "invalid character 'x' looking for beginning of value" });
    expect(scanJson("{model:1}")).toEqual({ error: "invalid character 'm' looking for beginning of object key string" });
    expect(scanJson('{"a" 1}')).toEqual({ error: "invalid character '1' after object key" });
    expect(scanJson('{"a":1 "b":2}')).toEqual({ error: "invalid character '\"' after object key:value pair" });
    expect(scanJson("[1 2]")).toEqual({ error: "invalid character '2' after array element" });
    expect(scanJson('{"a":tru}')).toEqual({ error: "invalid character '}' in literal true (expecting 'e')" });
    expect(scanJson('{"a":-x}')).toEqual({ error: "invalid character 'x' in numeric literal" });
    expect(scanJson(String.raw`{"a":"\\q"} x`)).toEqual({ end: 11 });
    expect(scanJson(String.raw`{"a":"\q"}`)).toEqual({ error: "invalid character 'q' in string escape code" });
    expect(scanJson('{"model":"a"')).toEqual({ error: "unexpected EOF" });
    expect(scanJson("")).toEqual({ error: "unexpected EOF" });
  });

  test("a body: empty (JSON whitespace only) is EOF; the first value only; a non-object cannot be unmarshalled", () => {
    expect(decodeGoBody("", "api.ChatRequest")).toEqual({ ok: false, empty: true, error: "EOF" });
    expect(decodeGoBody(" \r\n\t", "api.ChatRequest")).toEqual({ ok: false, empty: true, error: "EOF" });
    // U+00A0 is not JSON whitespace: Go reads it as a character
    expect(decodeGoBody("\u00a0", "api.ChatRequest")).toMatchObject({ ok: false, empty: false, error: expect.stringMatching(/^invalid character/) });
    expect(decodeGoBody('{"model":"a"} trailing', "api.ChatRequest")).toEqual({ ok: true, body: { model: "a" } });
    expect(decodeGoBody("[1]", "openai.ChatCompletionRequest")).toEqual({ ok: false, empty: false, error: "json: cannot unmarshal array into Go value of type openai.ChatCompletionRequest" });
    expect(decodeGoBody('"x"', "api.GenerateRequest")).toEqual({ ok: false, empty: false, error: "json: cannot unmarshal string into Go value of type api.GenerateRequest" });
    // null into a struct is a no-op in Go: an empty request
    expect(decodeGoBody("null", "api.GenerateRequest")).toEqual({ ok: true, body: {} });
  });

  test("a number beyond a float64 cannot be unmarshalled: Go's words (checked against encoding/json), the struct's field named", () => {
    const refused = (body: string, literal: string, field: string) =>
      expect(decodeGoBody(body, "api.ChatRequest")).toEqual({ ok: false, empty: false, error: `json: cannot unmarshal number ${literal} into Go struct field ChatRequest.${field} of type float64` });
    refused('{"model":"m","options":{"temperature":1e999}}', "1e999", "options");
    refused('{"model":"m","think":-1e999}', "-1e999", "think");
    refused('{"model":"m","options":{"stop":[1E+400]}}', "1E+400", "options");
    refused(`{"model":"m","seed":1${"0".repeat(309)}}`, `1${"0".repeat(309)}`, "seed");
    // in strings, or within range, numbers are no trouble
    expect(decodeGoBody('{"model":"1e999","prompt":"2e400 3e500","options":{"temperature":1.5e308,"x":1e-999}}', "api.ChatRequest")).toMatchObject({ ok: true });
  });

  test("a field of the wrong kind; absent and null pass", () => {
    expect(fieldKindError({ model: 5 }, "ChatRequest", "model", "string")).toBe("json: cannot unmarshal number into Go struct field ChatRequest.model of type string");
    expect(fieldKindError({ model: null }, "ChatRequest", "model", "string")).toBeUndefined();
    expect(fieldKindError({}, "ChatRequest", "model", "string")).toBeUndefined();
    expect(fieldKindError({ messages: {} }, "ChatRequest", "messages", "array", "[]api.Message")).toBe("json: cannot unmarshal object into Go struct field ChatRequest.messages of type []api.Message");
  });
});
