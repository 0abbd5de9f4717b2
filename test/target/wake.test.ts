// Wake-on-LAN's wire format (ADR 0022): the magic packet's bytes, MAC addresses as people write
// them, and the address the packet goes to.
import { describe, expect, test } from "bun:test";
import { magicPacket, parseMac, parseWakeAddr } from "../../src/target/wake.ts";

describe("the magic packet", () => {
  test("six bytes of FF, then the MAC sixteen times: 102 bytes", () => {
    const mac = Uint8Array.from([0x00, 0x11, 0x22, 0xaa, 0xbb, 0xff]);
    const packet = magicPacket(mac);
    expect(packet.byteLength).toBe(102);
    expect([...packet.subarray(0, 6)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    for (let i = 0; i < 16; i++) expect([...packet.subarray(6 + 6 * i, 12 + 6 * i)]).toEqual([...mac]);
  });
});

describe("parseMac", () => {
  test.each(["00:11:22:aa:BB:ff", "00-11-22-AA-bb-FF", "001122aabbff", " 00:11:22:aa:bb:ff "])("%p", (text) => {
    const parsed = parseMac(text);
    expect(parsed.ok && [...parsed.mac]).toEqual([0x00, 0x11, 0x22, 0xaa, 0xbb, 0xff]);
  });

  test.each(["", "00:11:22:33:44", "00:11:22:33:44:55:66", "00:11-22:33:44:55", "gg:11:22:33:44:55", "0011.2233.4455"])("%p is refused", (text) => {
    expect(parseMac(text)).toEqual({ ok: false, error: "a MAC address such as 00:11:22:33:44:55" });
  });
});

describe("parseWakeAddr", () => {
  test("an IPv4 address and a UDP port", () => {
    expect(parseWakeAddr("255.255.255.255:9")).toEqual({ ok: true, host: "255.255.255.255", port: 9 });
    expect(parseWakeAddr("192.168.001.255:7")).toEqual({ ok: true, host: "192.168.1.255", port: 7 });
  });

  test.each(["255.255.255.255", "256.1.1.1:9", "10.0.0.1:0", "10.0.0.1:65536", "mac.lan:9", "[ff02::1]:9", ""])("%p is refused", (text) => {
    expect(parseWakeAddr(text).ok).toBe(false);
  });
});
