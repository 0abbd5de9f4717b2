import { describe, expect, test } from "bun:test";
import { parseConfig, redacted } from "../src/config.ts";

describe("parseConfig", () => {
  test("defaults match the documented ones", () => {
    const r = parseConfig([], {});
    if (!r.ok) throw new Error(r.error);
    expect(r.config.target).toBe("http://127.0.0.1:11434");
    expect(r.config.host).toBe("127.0.0.1");
    expect(r.config.port).toBe(8080);
    // no HOME in this environment: the working directory, said once
    expect(r.config.db).toBe("./data/foreman.db");
    expect(r.config.token).toBeUndefined();
    expect(r.config.logLevel).toBe("info");
  });

  test.each([
    ["linux", { HOME: "/home/me" }, "/home/me/.local/share/foreman/foreman.db"],
    ["linux", { HOME: "/home/me", XDG_DATA_HOME: "/srv/xdg" }, "/srv/xdg/foreman/foreman.db"],
    ["linux", { HOME: "/home/me", XDG_DATA_HOME: "relative/xdg" }, "/home/me/.local/share/foreman/foreman.db"],
    ["darwin", { HOME: "/Users/me", XDG_DATA_HOME: "/srv/xdg" }, "/Users/me/Library/Application Support/foreman/foreman.db"],
    ["win32", { LOCALAPPDATA: "C:\\Users\\me\\AppData\\Local" }, "C:\\Users\\me\\AppData\\Local\\foreman\\foreman.db"],
  ])("no FOREMAN_DB on %s: the per-user data directory (%p)", (platform, env, path) => {
    expect(parseConfig([], env, { platform, legacyExists: false })).toEqual({ ok: true, config: expect.objectContaining({ db: path }) });
  });

  test("a database at the old default ./data/foreman.db is kept in use when nothing is configured, and said once", () => {
    const r = parseConfig([], { HOME: "/home/me" }, { platform: "linux", legacyExists: true });
    expect(r).toMatchObject({ ok: true, config: { db: "./data/foreman.db" } });
    expect(r.ok && r.notice).toBe("using the database in the working directory, ./data/foreman.db (the default before the per-user data directory); move it to /home/me/.local/share/foreman/foreman.db, or set FOREMAN_DB to keep this one");
    // a configured database wins, and nothing is said
    const configured = parseConfig([], { HOME: "/home/me", FOREMAN_DB: "/srv/f.db" }, { platform: "linux", legacyExists: true });
    expect(configured).toEqual({ ok: true, config: expect.objectContaining({ db: "/srv/f.db" }) });
  });

  test("environment values are converted to the schema's type", () => {
    const r = parseConfig([], { FOREMAN_PORT: "9000", FOREMAN_TARGET: "sim", FOREMAN_LOG_LEVEL: "debug" });
    expect(r).toMatchObject({ ok: true, config: { port: 9000, target: "sim", logLevel: "debug" } });
  });

  test("flags override the environment, in both --flag value and --flag=value forms", () => {
    const r = parseConfig(["--port", "7000", "--target=https://gpu.lan:11434"], { FOREMAN_PORT: "9000" });
    expect(r).toMatchObject({ ok: true, config: { port: 7000, target: "https://gpu.lan:11434" } });
  });

  test.each([
    [{ FOREMAN_PORT: "abc" }, 'invalid FOREMAN_PORT "abc": expected an integer from 0 to 65535'],
    [{ FOREMAN_PORT: "70000" }, 'invalid FOREMAN_PORT "70000": expected an integer from 0 to 65535'],
    [{ FOREMAN_TARGET: "not a url" }, 'invalid FOREMAN_TARGET "not a url": expected an http(s) URL such as http://127.0.0.1:11434, or the word sim'],
    [{ FOREMAN_TARGET: "ftp://x" }, 'invalid FOREMAN_TARGET "ftp://x": expected an http(s) URL such as http://127.0.0.1:11434, or the word sim'],
    [{ FOREMAN_LOG_LEVEL: "loud" }, 'invalid FOREMAN_LOG_LEVEL "loud": expected one of "debug", "info", "warn", "error", "silent"'],
    [
      { FOREMAN_ORIGINS: "https://ok.example, app.example" },
      'invalid FOREMAN_ORIGINS "https://ok.example, app.example": expected comma-separated browser origins such as https://app.example or http://*.lan, or * (bad origin: origins must contain \'*\' or include http://,https://,chrome-extension://,safari-extension://,moz-extension://,ms-browser-extension://)',
    ],
    [{ FOREMAN_ORIGINS: "https://*.*.example" }, 'invalid FOREMAN_ORIGINS "https://*.*.example": expected comma-separated browser origins such as https://app.example or http://*.lan, or * (only one * is allowed)'],
  ])("bad value %p is one line naming variable, value and expectation", (env, message) => {
    expect(parseConfig([], env)).toEqual({ ok: false, error: message });
  });

  test("a bad secret is named but its value is not shown", () => {
    expect(parseConfig(["--token="], {})).toEqual({ ok: false, error: "invalid --token (hidden): expected a non-empty string" });
    const r2 = parseConfig([], { FOREMAN_MAX_ATTEMPTS: "0" });
    expect(r2).toEqual({ ok: false, error: 'invalid FOREMAN_MAX_ATTEMPTS "0": expected an integer from 1 to 100' });
  });

  test("unknown flags and stray arguments are refused", () => {
    expect(parseConfig(["--nope", "1"], {})).toEqual({ ok: false, error: "unknown option --nope (see --help)" });
    expect(parseConfig(["serve"], {})).toEqual({ ok: false, error: 'unexpected argument "serve" (see --help)' });
    expect(parseConfig(["--port"], {})).toEqual({ ok: false, error: "option --port needs a value" });
  });

  test("FOREMAN_ORIGINS: entries may be written with spaces and a trailing comma", () => {
    expect(parseConfig([], { FOREMAN_ORIGINS: " https://a.example , http://*.lan, " })).toMatchObject({ ok: true, config: { origins: " https://a.example , http://*.lan, " } });
  });

  test("an empty environment variable means unset", () => {
    const r = parseConfig([], { FOREMAN_TOKEN: "" });
    expect(r.ok && r.config.token).toBeUndefined();
  });

  test("redaction hides secrets", () => {
    const r = parseConfig([], { FOREMAN_TOKEN: "s3cret", FOREMAN_TARGET_TOKEN: "t0ken", FOREMAN_TARGET: "http://me:pa55@mac.lan:11434" });
    if (!r.ok) throw new Error(r.error);
    expect(JSON.stringify(redacted(r.config))).not.toMatch(/s3cret|t0ken|pa55/);
    expect(redacted(r.config).target).toBe("http://me:(hidden)@mac.lan:11434/");
  });
});
