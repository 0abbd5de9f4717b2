// Wake-on-LAN's wire format: a MAC address as people write it, the address the magic packet
// goes to, and the packet itself — six bytes of FF, then the target's MAC sixteen times, in one
// UDP datagram that the network card of a sleeping machine recognises (ADR 0022). Pure.

/** The magic packet for `mac` (6 bytes): 102 bytes. */
export function magicPacket(mac: Uint8Array): Uint8Array {
  const packet = new Uint8Array(6 + 16 * 6).fill(0xff, 0, 6);
  for (let i = 0; i < 16; i++) packet.set(mac, 6 + i * 6);
  return packet;
}

/** `aa:bb:cc:dd:ee:ff`, `AA-BB-CC-DD-EE-FF` or `aabbccddeeff` as 6 bytes, or what is expected instead. */
export function parseMac(text: string): { ok: true; mac: Uint8Array } | { ok: false; error: string } {
  const t = text.trim();
  const hex = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i.test(t) ? t.replace(/[:-]/g, "") : t;
  if (!/^[0-9a-f]{12}$/i.test(hex)) return { ok: false, error: "a MAC address such as 00:11:22:33:44:55" };
  return { ok: true, mac: Uint8Array.from(hex.match(/../g)!, (b) => parseInt(b, 16)) };
}

/**
 * Where the packet goes: an IPv4 address and a UDP port (`255.255.255.255:9`, the LAN's
 * broadcast; a directed broadcast such as `192.168.1.255:9`; or the machine's own address
 * where a router keeps its ARP entry), or what is expected instead.
 */
export function parseWakeAddr(text: string): { ok: true; host: string; port: number } | { ok: false; error: string } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[5]) : 0;
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || port < 1 || port > 65535) return { ok: false, error: "an IPv4 address and a UDP port such as 255.255.255.255:9 or 192.168.1.255:9" };
  return { ok: true, host: m.slice(1, 5).map(Number).join("."), port };
}
