import { describe, expect, test } from "bun:test";
import { decodeBody } from "../../src/sim/body.ts";
import { formatFloat32, goJson, goMap, asGoAny, shortestFloat32 } from "../../src/sim/gojson.ts";
import { FOREVER_NS, localStamp, nowNs, utcStamp } from "../../src/sim/clock.ts";

const at0 = (): bigint => BigInt(Date.UTC(2026, 5, 1)) * 1_000_000n;
import { parseKeepAlive } from "../../src/sim/duration.ts";
import { parseGoDuration } from "../../src/ollama/go-duration.ts";
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
    expect(() => decodeBody("[1]", "ChatRequest")).toThrow("json: cannot unmarshal array into Go value of type api.ChatRequest");
  });
  test("like json.Decoder, trailing data after the first value is not read", () => {
    expect(decodeBody('{"model":"a"} trailing', "ChatRequest")).toEqual({ model: "a" });
  });
});

describe("Go's JSON encoding", () => {
  test.each([
    [0.1, "0.1"],
    [1 / 3, "0.33333334"],
    [0.3, "0.3"],
    [2.5, "2.5"],
    [100, "100"],
    [123456789, "123456790"],
    [16777216, "16777216"],
    [1e20, "100000000000000000000"],
    [1e21, "1e+21"],
    [3.4028235e38, "3.4028235e+38"],
    [1e-6, "0.000001"],
    [9.999999e-7, "9.999999e-7"],
    [1e-7, "1e-7"],
    [1.17549435e-38, "1.1754944e-38"],
    [1e-45, "1e-45"],
    [-0.5, "-0.5"],
    [0, "0"],
    [-0, "-0"],
    [265811.125, "265811.12"],
    [-63847.8125, "-63847.812"],
  ])("float32 %p is written %p (strconv 'f'/'e', shortest, ties to even)", (value, text) => {
    expect(formatFloat32(Math.fround(value))).toBe(text);
  });

  test("shortest float32 text always reads back as the same float32 and is never longer than needed", () => {
    const view = new DataView(new ArrayBuffer(4));
    let state = 20261126;
    let checked = 0;
    for (let i = 0; i < 20_000; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      view.setUint32(0, state);
      const f = view.getFloat32(0);
      if (!Number.isFinite(f)) continue;
      checked++;
      const text = formatFloat32(f);
      expect(Math.fround(Number(text))).toBe(f);
      const digits = shortestFloat32(f).digits.length;
      // No shorter precision round-trips (toPrecision rounds correctly, so it finds one if any exists).
      if (digits > 1) expect(Math.fround(Number(f.toPrecision(digits - 1)))).not.toBe(f);
    }
    expect(checked).toBeGreaterThan(19_000);
  });

  test("strings escape <, > and & and the line separators, like json.Marshal", () => {
    expect(goJson({ a: "<b>&\u2028\u2029", q: '"\\\n\b\f\u0001' })).toBe('{"a":"\\u003cb\\u003e\\u0026\\u2028\\u2029","q":"\\"\\\\\\n\\b\\f\\u0001"}');
    expect(goJson("\ud800x")).toBe('"\ufffdx"');
  });

  test("structs keep field order and drop undefined; maps sort their keys; float32 slices", () => {
    expect(goJson({ z: 1, a: undefined, m: goMap({ b: 2, a: [1.5, null] }), v: new Float32Array([0.1, 1e-7]) })).toBe(
      '{"z":1,"m":{"a":[1.5,null],"b":2},"v":[0.1,1e-7]}',
    );
    expect(goJson(asGoAny({ b: { d: 1, c: 2 }, a: [{ y: 1, x: 2 }] }))).toBe('{"a":[{"x":2,"y":1}],"b":{"c":2,"d":1}}');
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
  test("timestamps: RFC3339 with nanoseconds, trailing zeros trimmed", () => {
    const at = (ms: number, extraNs = 0n): bigint => BigInt(ms) * 1_000_000n + extraNs;
    expect(utcStamp(at(Date.UTC(2026, 0, 1, 10, 0, 0, 100)))).toBe("2026-01-01T10:00:00.1Z");
    expect(utcStamp(at(Date.UTC(2026, 0, 1, 10, 0, 0, 123), 456_789n))).toBe("2026-01-01T10:00:00.123456789Z");
    expect(utcStamp(at(Date.UTC(2026, 0, 1, 10, 0, 2)))).toBe("2026-01-01T10:00:02Z");
    expect(utcStamp()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    expect(localStamp(nowNs())).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?([+-]\d\d:\d\d|Z)$/);
  });

  test("a local stamp at UTC ends in Z, like Go's Z07:00 layout", () => {
    const offset = new Date().getTimezoneOffset();
    const stamp = localStamp(at0());
    expect(stamp.endsWith("Z")).toBe(offset === 0);
  });

  test("forever is now + MaxInt64 nanoseconds, as Go's time.Add computes it", () => {
    const now = BigInt(Date.UTC(2026, 10, 26, 12, 0, 0)) * 1_000_000n;
    expect(utcStamp(now + FOREVER_NS)).toBe("2319-03-08T11:47:16.854775807Z");
  });
  test("pull progress follows Ollama's sequence, config layer last", () => {
    const digest = "ab".repeat(32);
    const steps = pullProgress([
      { mediaType: "application/vnd.ollama.image.model", digest, size: 1000 },
      { mediaType: "application/vnd.docker.container.image.v1+json", digest: "cd".repeat(32), size: 10 },
    ]);
    expect(steps[0]).toEqual({ status: "pulling manifest" });
    expect(steps[1]).toEqual({ status: "pulling abababababab", digest: `sha256:${digest}`, total: 1000 });
    expect(steps[2]).toEqual({ status: "pulling abababababab", digest: `sha256:${digest}`, total: 1000, completed: 500 });
    expect(steps[6]).toEqual({ status: "pulling cdcdcdcdcdcd", digest: `sha256:${"cd".repeat(32)}`, total: 10, completed: 10 });
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
    expect(simOptions({ origins: "https://a.example,*.b.test" })).toEqual({ options: { port: 11434, origins: "https://a.example,*.b.test" } });
    expect(simOptions({ origins: "example.com" })).toEqual({ error: expect.stringMatching(/^--origins: bad origin/) });
  });
});
