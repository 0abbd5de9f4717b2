import { describe, expect, test } from "bun:test";
import { decodeBody } from "../../src/sim/body.ts";
import { scanJson } from "../../src/sim/gojson.ts";
import { localStamp, utcStamp } from "../../src/sim/clock.ts";
import { parseGoDuration, parseKeepAlive } from "../../src/sim/duration.ts";
import { SimError } from "../../src/sim/errors.ts";
import { displayName, parseName } from "../../src/sim/names.ts";
import { float32Base64, generateTokens, normalize, rawEmbedding } from "../../src/sim/output.ts";
import { pullProgress } from "../../src/sim/models.ts";
import { match } from "../../src/sim/router.ts";
import { simOptions } from "../../src/sim/cli.ts";

describe("keep_alive", () => {
  test("numbers are seconds, negatives forever", () => {
    expect(parseKeepAlive(30)).toBe(30_000);
    expect(parseKeepAlive(0)).toBe(0);
    expect(parseKeepAlive(-1)).toBe(Infinity);
    expect(parseKeepAlive(undefined)).toBeUndefined();
    expect(parseKeepAlive(null)).toBeUndefined();
  });
  test("strings are Go durations", () => {
    expect(parseKeepAlive("5m")).toBe(300_000);
    expect(parseKeepAlive("1h30m")).toBe(5_400_000);
    expect(parseKeepAlive("300ms")).toBe(300);
    expect(parseKeepAlive("0")).toBe(0);
    expect(parseKeepAlive("-1m")).toBe(Infinity);
    expect(parseGoDuration("1.5s")).toBe(1500);
  });
  test("unitless strings are Ollama's 400", () => {
    expect(() => parseKeepAlive("-1")).toThrow('time: missing unit in duration "-1"');
    expect(() => parseKeepAlive("300")).toThrow('time: missing unit in duration "300"');
    expect(() => parseKeepAlive("abc")).toThrow('time: invalid duration "abc"');
    try {
      parseKeepAlive("-1");
    } catch (err) {
      expect(err).toBeInstanceOf(SimError);
      expect((err as SimError).status).toBe(400);
    }
  });
});

describe("bodies", () => {
  test("empty and malformed bodies read like Go", () => {
    expect(() => decodeBody("", "ChatRequest")).toThrow("missing request body");
    expect(() => decodeBody("xyz", "ChatRequest")).toThrow("invalid character 'x' looking for beginning of value");
    expect(() => decodeBody('{"model":"a"', "ChatRequest")).toThrow("unexpected EOF");
    expect(scanJson('{"model": x}')).toEqual({ error: "invalid character 'x' looking for beginning of value" });
    expect(scanJson("{model:1}")).toEqual({ error: "invalid character 'm' looking for beginning of object key string" });
    expect(scanJson('{"a" 1}')).toEqual({ error: "invalid character '1' after object key" });
    expect(scanJson('{"a":1 "b":2}')).toEqual({ error: "invalid character '\"' after object key:value pair" });
    expect(scanJson("[1 2]")).toEqual({ error: "invalid character '2' after array element" });
    expect(scanJson('{"a":tru}')).toEqual({ error: "invalid character '}' in literal true (expecting 'e')" });
    expect(scanJson('{"a":-x}')).toEqual({ error: "invalid character 'x' in numeric literal" });
    expect(scanJson(String.raw`{"a":"\\q"} x`)).toEqual({ end: 11 });
    expect(scanJson(String.raw`{"a":"\q"}`)).toEqual({ error: "invalid character 'q' in string escape code" });
    expect(() => decodeBody("[1]", "ChatRequest")).toThrow("json: cannot unmarshal array into Go value of type api.ChatRequest");
  });
  test("like json.Decoder, trailing data after the first value is not read", () => {
    expect(decodeBody('{"model":"a"} trailing', "ChatRequest")).toEqual({ model: "a" });
  });
});

describe("names", () => {
  test("normalise like Ollama", () => {
    expect(displayName(parseName("Llama3.2")!)).toBe("llama3.2:latest");
    expect(displayName(parseName("user/m:tag")!)).toBe("user/m:tag");
    expect(displayName(parseName("registry.ollama.ai/library/mistral:7b")!)).toBe("mistral:7b");
    expect(parseName("bad name!")).toBeNull();
  });
});

describe("output", () => {
  test("tokens are deterministic per model, input and seed", () => {
    const a = generateTokens("m", "hello", 1, 8);
    expect(generateTokens("m", "hello", 1, 8)).toEqual(a);
    expect(generateTokens("m", "hello", 2, 8)).not.toEqual(a);
    expect(generateTokens("m", "other", 1, 8)).not.toEqual(a);
    expect(a).toHaveLength(8);
    expect(a[1]?.startsWith(" ")).toBe(true);
  });
  test("embeddings normalise and encode as little-endian float32", () => {
    const v = normalize(rawEmbedding("m", "x", 16));
    expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    const bytes = Buffer.from(float32Base64(v), "base64");
    expect(bytes.length).toBe(64);
    expect(bytes.readFloatLE(4)).toBe(v[1]!);
  });
  test("timestamps", () => {
    expect(utcStamp(Date.UTC(2026, 0, 1, 10, 0, 0, 100))).toBe("2026-01-01T10:00:00.1Z");
    expect(utcStamp(Date.UTC(2026, 0, 1, 10, 0, 2))).toBe("2026-01-01T10:00:02Z");
    expect(localStamp(Date.now())).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$/);
  });
  test("pull progress follows Ollama's sequence", () => {
    const steps = pullProgress("k", 1000);
    expect(steps[0]).toEqual({ status: "pulling manifest" });
    expect(steps[1]).toEqual({ status: expect.stringMatching(/^pulling [0-9a-f]{12}$/), digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), total: 1000 });
    expect(steps[2]?.completed).toBe(500);
    expect(steps.slice(-4).map((s) => s.status)).toEqual(["verifying sha256 digest", "writing manifest", "removing unused layers", "success"]);
  });
});

describe("routes and cli", () => {
  test("route matching", () => {
    expect(match("/api/chat")?.route.path).toBe("/api/chat");
    expect(match("/v1/models/llama3.2:latest")?.param).toBe("llama3.2:latest");
    expect(match("/v1/models/a/b")).toBeNull();
    expect(match("/api/nothing")).toBeNull();
  });
  test("flags", () => {
    expect(simOptions({ port: "1234", "token-delay": "5", host: "0.0.0.0" })).toEqual({ options: { port: 1234, tokenDelayMs: 5, hostname: "0.0.0.0" } });
    expect(simOptions({})).toEqual({ options: { port: 11434 } });
    expect(simOptions({ port: "x" })).toHaveProperty("error");
    expect(simOptions({ port: "70000" })).toHaveProperty("error");
    expect(simOptions({ "max-loaded": "0" })).toHaveProperty("error");
  });
});
