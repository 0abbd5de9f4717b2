// Who asked, for usage: the peer, or X-Forwarded-For only from a listed proxy; the User-Agent's
// product; a bounded tag.
import { describe, expect, test } from "bun:test";
import { callerAddress, checkedTag, clientOf, parseTrustedProxies, productOf } from "../../src/contract/caller.ts";
import { HttpError } from "../../src/contract/http-error.ts";

const trusted = parseTrustedProxies("10.0.0.1, ::1") as Set<string>;

describe("callerAddress", () => {
  test("the peer itself when it is no listed proxy, whatever X-Forwarded-For claims", () => {
    expect(callerAddress("192.168.1.20", "203.0.113.7", trusted)).toBe("192.168.1.20");
    expect(callerAddress("192.168.1.20", "203.0.113.7", new Set())).toBe("192.168.1.20");
  });

  test("from a listed proxy: the nearest address that is not a listed proxy, read from the right", () => {
    expect(callerAddress("10.0.0.1", "203.0.113.7", trusted)).toBe("203.0.113.7");
    expect(callerAddress("::ffff:10.0.0.1", "198.51.100.1, 203.0.113.7, 10.0.0.1", trusted)).toBe("203.0.113.7");
    expect(callerAddress("::1", "2001:db8::5", trusted)).toBe("2001:db8::5");
  });

  test("from a listed proxy without a usable header: the proxy", () => {
    expect(callerAddress("10.0.0.1", null, trusted)).toBe("10.0.0.1");
    expect(callerAddress("10.0.0.1", "not-an-address", trusted)).toBe("10.0.0.1");
    expect(callerAddress("10.0.0.1", "10.0.0.1", trusted)).toBe("10.0.0.1");
    expect(callerAddress(undefined, "203.0.113.7", trusted)).toBe("");
  });

  test("FOREMAN_TRUSTED_PROXIES: addresses only, the wrong entry named", () => {
    expect(parseTrustedProxies("")).toEqual(new Set());
    expect(parseTrustedProxies("10.0.0.1,proxy.lan")).toBe('"proxy.lan" is not an IP address');
  });
});

describe("productOf", () => {
  test("the first product of the User-Agent, bounded; none for an empty or odd one", () => {
    expect(productOf("ollama-js/0.5.14 (x64 linux Node.js/v22.1.0)")).toBe("ollama-js");
    expect(productOf("OpenAI/Python 1.54.0")).toBe("OpenAI");
    expect(productOf("curl/8.5.0")).toBe("curl");
    expect(productOf("x".repeat(200))).toBe("x".repeat(64));
    expect(productOf(null)).toBe("");
    expect(productOf(" (weird)")).toBe("");
  });
});

describe("clientOf", () => {
  const request = (headers: Record<string, string>) => new Request("http://foreman.lan/api/chat", { headers });
  test("the address, then the User-Agent product; either alone when the other is unknown", () => {
    expect(clientOf(request({ "user-agent": "ollama-js/0.5.14", "x-forwarded-for": "203.0.113.7" }), "10.0.0.1", trusted)).toBe("203.0.113.7 ollama-js");
    expect(clientOf(request({ "user-agent": "ollama-js/0.5.14" }), "192.168.1.20", trusted)).toBe("192.168.1.20 ollama-js");
    expect(clientOf(request({}), "192.168.1.20", trusted)).toBe("192.168.1.20");
    expect(clientOf(request({ "user-agent": "curl/8.5.0" }), undefined, trusted)).toBe("curl");
    expect(clientOf(request({}), undefined, trusted)).toBe("");
  });
});

describe("checkedTag", () => {
  test("absent is none; 1 to 64 printable ASCII characters are a tag", () => {
    expect(checkedTag(undefined, "/metadata/tag")).toBeNull();
    expect(checkedTag(null, "X-Foreman-Tag")).toBeNull();
    expect(checkedTag("nightly-eval", "/metadata/tag")).toBe("nightly-eval");
    expect(checkedTag("a b", "/metadata/tag")).toBe("a b");
    expect(checkedTag("t".repeat(64), "/metadata/tag")).toBe("t".repeat(64));
  });

  test("anything else is a 400 naming where it was", () => {
    for (const bad of ["", " lead", "trail ", "t".repeat(65), "naïve", "tab\there", 42, { a: 1 }]) {
      let caught: unknown;
      try {
        checkedTag(bad, "X-Foreman-Tag", "/headers/x-foreman-tag");
      } catch (err) {
        caught = err;
      }
      expect(caught, JSON.stringify(bad)).toBeInstanceOf(HttpError);
      expect((caught as HttpError).status).toBe(400);
      expect((caught as HttpError).message).toStartWith("X-Foreman-Tag: ");
      expect((caught as HttpError).field).toBe("/headers/x-foreman-tag");
    }
  });
});
