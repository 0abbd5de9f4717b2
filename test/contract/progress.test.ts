// The offsets of a job's streamed text: counted in characters (code points), and what of a
// progress event's text a reader that has `seen` characters has not had yet.
import { describe, expect, test } from "bun:test";
import { characters, unseen } from "../../src/contract/progress.ts";

describe("characters", () => {
  test("counts code points: a surrogate pair is one character, as Go's runes and Python's len", () => {
    expect(characters("")).toBe(0);
    expect(characters("héllo")).toBe(5);
    expect(characters("a😀b")).toBe(3);
    expect("a😀b".length).toBe(4);
  });
});

describe("unseen", () => {
  test("text that starts at or past what the reader has is all new (a gap cannot be filled)", () => {
    expect(unseen("llo", 2, 2)).toBe("llo");
    expect(unseen("llo", 4, 2)).toBe("llo");
  });

  test("the text so far from offset 0 is cut to what comes after the reader's characters", () => {
    expect(unseen("héllo", 0, 2)).toBe("llo");
    expect(unseen("a😀bc", 0, 2)).toBe("bc");
    expect(unseen("héllo", 0, 5)).toBe("");
    expect(unseen("héllo", 0, 9)).toBe("");
  });
});
