// The re-send rule after a reset, tested without I/O (ADR 0030): the first drop keeps the
// request's place, the next ones send it to the back, and past MAX_RESENDS it is given up.
import { describe, expect, test } from "bun:test";
import { afterDrop, MAX_RESENDS } from "../../src/engine/resend.ts";

describe("afterDrop", () => {
  test("in place, then from the back, then given up with the count in the message", () => {
    expect(MAX_RESENDS).toBe(2);
    expect(afterDrop(1)).toEqual({ kind: "head" });
    expect(afterDrop(2)).toEqual({ kind: "back" });
    const last = afterDrop(3);
    expect(last.kind).toBe("give up");
    expect(last.kind === "give up" && last.message).toBe("the target dropped the request before answering, 3 times (it may be what crashes the target); foreman does not send it again");
  });

  test("a request is sent at most 1 + MAX_RESENDS times, whatever came before", () => {
    for (let drops = MAX_RESENDS + 1; drops < MAX_RESENDS + 10; drops++) expect(afterDrop(drops).kind).toBe("give up");
    for (let drops = 1; drops <= MAX_RESENDS; drops++) expect(afterDrop(drops).kind).not.toBe("give up");
  });
});
