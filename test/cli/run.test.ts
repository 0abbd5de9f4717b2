// `foreman run`, as a person runs it: a prompt from the arguments or a pipe, --json, --job,
// errors and exit codes; and on a real terminal (tmux) the chat — a conversation that is kept,
// the commands, multi-line input, Ctrl-C that stops an answer and aborts it at the target,
// /bye and Ctrl-D.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Job } from "../../clients/ts/types.ts";
import { promptOf } from "../../src/cli/run.ts";
import { readPromptLine, CHAT_HELP } from "../../src/cli/interactive.ts";
import { BUN, MAIN, startStack, startTestForeman, waitFor, type Stack } from "../harness.ts";
import { openTerminal, TMUX } from "./terminal.ts";

setDefaultTimeout(60_000);

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ sim: { tokenDelayMs: 60, responseTokens: 30, loadMs: 20 } });
});

afterAll(async () => {
  await stack.stop();
});

async function foreman(args: string[], stdin?: string) {
  const proc = Bun.spawn([BUN, MAIN, ...args], { env: { ...process.env, FOREMAN_URL: stack.url }, stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

type Message = { role: string; content: string };
/** The screen with its line breaks as spaces: a wrapped answer reads as the model wrote it. */
const flat = (screen: string) => screen.replace(/\s+/g, " ");
/** What the simulator answers to this conversation (it is deterministic), asked directly. */
async function expected(messages: Message[], model = "llama3.2"): Promise<{ message: Message; prompt_eval_count: number }> {
  const res = await fetch(`${stack.sim.url}/api/chat`, { method: "POST", body: JSON.stringify({ model, messages, stream: false }) });
  return (await res.json()) as { message: Message; prompt_eval_count: number };
}

describe("foreman run with a prompt", () => {
  test("the argument is the prompt; the answer is printed as the model gave it; exit 0", async () => {
    const r = await foreman(["run", "llama3.2", "Why", "is", "the", "sky", "blue?"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${(await expected([{ role: "user", content: "Why is the sky blue?" }])).message.content}\n`);
  });

  test("piped stdin comes first, then the arguments, as ollama run joins them", async () => {
    expect(promptOf("a diff\n", ["summarise", "it"])).toBe("a diff\n summarise it");
    const r = await foreman(["run", "llama3.2", "summarise"], "a diff\n");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${(await expected([{ role: "user", content: "a diff\n summarise" }])).message.content}\n`);
  });

  test("--json prints the final reply as Ollama gives it unstreamed", async () => {
    const r = await foreman(["run", "llama3.2", "hi", "--json"]);
    expect(r.code).toBe(0);
    const reply = JSON.parse(r.stdout) as { done: boolean; message: Message; eval_count: number };
    expect(reply.done).toBe(true);
    expect(reply.message).toEqual((await expected([{ role: "user", content: "hi" }])).message);
    expect(reply.eval_count).toBe(30);
  });

  test("--job sends it as an async job and prints the answer when done (--json: the artifact)", async () => {
    const before = (await (await fetch(`${stack.url}/jobs?limit=1`)).json()) as { jobs: Job[] };
    const r = await foreman(["run", "llama3.2", "--job", "hello", "job"]);
    expect(r.code).toBe(0);
    const answer = (await expected([{ role: "user", content: "hello job" }])).message.content;
    expect(r.stdout).toBe(`${answer}\n`);
    const after = (await (await fetch(`${stack.url}/jobs?limit=1`)).json()) as { jobs: Job[] };
    expect(after.jobs[0]!.id).not.toBe(before.jobs[0]?.id);
    expect(after.jobs[0]).toMatchObject({ status: "done", endpoint: "/api/chat", model: "llama3.2" });
    const json = await foreman(["run", "llama3.2", "--job", "--json", "hello", "job"]);
    expect((JSON.parse(json.stdout) as { message: Message }).message.content).toBe(answer);
  });

  test("an unknown model exits 3, an error mid-answer exits 1, a usage mistake 2 — each one line", async () => {
    const unknown = await foreman(["run", "no-such-model", "hi"]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toBe('foreman run: model "no-such-model" not found (to get it: foreman pull no-such-model, or run with --pull)\n');

    await stack.sim.setFaults({ errorMidStream: { afterChunks: 2, message: "the runner crashed" } });
    try {
      const broken = await foreman(["run", "llama3.2", "hi"]);
      expect(broken.code).toBe(1);
      expect(broken.stderr).toBe("foreman run: the runner crashed\n");
      expect(broken.stdout.length).toBeGreaterThan(0); // what came before the error was shown
    } finally {
      await stack.sim.setFaults({ errorMidStream: null });
    }

    const noPrompt = await foreman(["run", "llama3.2"]);
    expect(noPrompt.code).toBe(2);
    expect(noPrompt.stderr.trim().split("\n")).toHaveLength(1);
    expect((await foreman(["run", "llama3.2", "hi", "--timeout", "3"])).stderr).toContain("--timeout goes with --job");
  });

  test("--pull pulls a model the target lacks first (its progress on stderr), then answers", async () => {
    const r = await foreman(["run", "llama3.1", "--pull", "hi"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("llama3.1: success (100%)");
    expect(r.stdout).toBe(`${(await expected([{ role: "user", content: "hi" }], "llama3.1")).message.content}\n`);
  });

  test("--verbose prints Ollama's timings after the answer, on stderr", async () => {
    const r = await foreman(["run", "llama3.2", "--verbose", "timings please"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${(await expected([{ role: "user", content: "timings please" }])).message.content}\n`);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^total duration: {7}[\d.]+(ms|s)$/);
    expect(lines).toContainEqual(expect.stringMatching(/^prompt eval count: {4}\d+ token\(s\)$/));
    expect(lines).toContainEqual("eval count:           30 token(s)");
    expect(lines.at(-1)).toMatch(/^eval rate: {12}\d+\.\d\d tokens\/s$/);
  });

  test("--think shows the thinking in Ollama's frame, in a pipe too; without it a pipe gets the answer alone; --hidethinking hides it", async () => {
    const asked = [{ role: "user", content: "think about it" }];
    const res = await fetch(`${stack.sim.url}/api/chat`, { method: "POST", body: JSON.stringify({ model: "qwen3:0.6b", messages: asked, stream: false }) });
    const { message } = (await res.json()) as { message: Message & { thinking: string } };
    expect(message.thinking.length).toBeGreaterThan(0);
    const think = await foreman(["run", "qwen3:0.6b", "--think", "think about it"]);
    expect(think.code).toBe(0);
    expect(think.stdout).toBe(`Thinking...\n${message.thinking}\n...done thinking.\n\n${message.content}\n`);
    expect((await foreman(["run", "qwen3:0.6b", "think about it"])).stdout).toBe(`${message.content}\n`);
    expect((await foreman(["run", "qwen3:0.6b", "--think", "--hidethinking", "think about it"])).stdout).toBe(`${message.content}\n`);
    // --think=false asks the model not to think: a model without thinking answers it
    expect((await foreman(["run", "llama3.2", "--think=false", "hi"])).code).toBe(0);
    expect((await foreman(["run", "llama3.2", "--think=loud", "hi"])).stderr).toContain("--think: expected true, false, high, medium, low");
  });

  test("--keepalive keeps the model loaded that long, as Ollama's keep_alive", async () => {
    const r = await foreman(["run", "qwen2.5:0.5b", "--keepalive", "42m", "hi"]);
    expect(r.code).toBe(0);
    const ps = (await (await fetch(`${stack.sim.url}/api/ps`)).json()) as { models: { name: string; expires_at: string }[] };
    const left = Date.parse(ps.models.find((m) => m.name === "qwen2.5:0.5b:latest" || m.name === "qwen2.5:0.5b")!.expires_at) - Date.now();
    expect(left).toBeGreaterThan(40 * 60_000);
    expect(left).toBeLessThanOrEqual(42 * 60_000);
    // a bare number is seconds, sent as a number (Ollama's duration strings need a unit): -1 is forever
    expect((await foreman(["run", "qwen2.5:0.5b", "--keepalive", "-1", "hi"])).code).toBe(0);
    const forever = (await (await fetch(`${stack.sim.url}/api/ps`)).json()) as { models: { name: string; expires_at: string }[] };
    expect(Date.parse(forever.models.find((m) => m.name.startsWith("qwen2.5:0.5b"))!.expires_at) - Date.now()).toBeGreaterThan(365 * 24 * 3_600_000);
    expect((await foreman(["run", "llama3.2", "--keepalive", "soon", "hi"])).code).toBe(2);
  });

  test("--format json reaches the target as Ollama's format; a bad one is a usage error", async () => {
    // a recording hop between foreman and the simulator
    const seen: unknown[] = [];
    const hop = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(req) {
        const url = new URL(req.url);
        const body = req.method === "GET" ? undefined : await req.text();
        if (url.pathname === "/api/chat") seen.push(JSON.parse(body!));
        return fetch(`${stack.sim.url}${url.pathname}${url.search}`, { method: req.method, headers: req.headers, body });
      },
    });
    const other = await startTestForeman({ target: `http://127.0.0.1:${hop.port}` });
    try {
      const run = (args: string[]) => Bun.spawn([BUN, MAIN, "run", ...args, "--url", other.url], { stdout: "pipe", stderr: "pipe" }).exited;
      expect(await run(["llama3.2", "--format", "json", "as json"])).toBe(0);
      expect(await run(["qwen3:0.6b", "--format", '{"type":"object"}', "--think=low", "--keepalive", "1h", "as schema"])).toBe(0);
      expect(seen).toMatchObject([
        { model: "llama3.2", format: "json", stream: true },
        { model: "qwen3:0.6b", format: { type: "object" }, think: "low", keep_alive: "1h", stream: true },
      ]);
      expect((await foreman(["run", "llama3.2", "--format", "yaml", "hi"])).code).toBe(2);
    } finally {
      await other.stop();
      hop.stop(true);
    }
  });

  test("an unreachable foreman exits 3", async () => {
    const r = await foreman(["run", "llama3.2", "hi", "--url", "http://127.0.0.1:9"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("cannot reach foreman");
  });
});

describe("the chat's input", () => {
  test.each([
    ["hello", null, { kind: "send", text: "hello" }, null],
    ["   ", null, { kind: "none" }, null],
    ["/bye", null, { kind: "quit" }, null],
    ["/exit", null, { kind: "quit" }, null],
    ["/?", null, { kind: "say", text: CHAT_HELP }, null],
    ["/help", null, { kind: "say", text: CHAT_HELP }, null],
    ["/clear", null, { kind: "clear" }, null],
    ["/set x", null, { kind: "say", text: "Unknown command '/set'. Type /? for help\n" }, null],
    ['"""first', null, { kind: "none" }, "first\n"],
    ["second", "first\n", { kind: "none" }, "first\nsecond\n"],
    ['third"""', "first\nsecond\n", { kind: "send", text: "first\nsecond\nthird" }, null],
    ['"""one line"""', null, { kind: "send", text: "one line" }, null],
    ["/bye", "open\n", { kind: "none" }, "open\n/bye\n"],
  ] as const)("%p with %p open", (line, open, action, after) => {
    expect(readPromptLine(line, open)).toEqual({ action, open: after });
  });
});

describe.skipIf(!TMUX)("foreman run on a terminal", () => {
  const open = (args: string[]) => openTerminal([BUN, MAIN, "run", ...args], { env: { FOREMAN_URL: stack.url } });
  const prompts = (screen: string) => screen.split("\n").filter((l) => l.startsWith(">>>")).length;

  test("a chat that keeps the conversation; /?, unknown commands, multi-line input, /bye", async () => {
    const term = await open(["llama3.2"]);
    try {
      await term.waitForScreen((s) => s.includes("Chatting with llama3.2 through") && s.endsWith(">>>"), "the prompt");
      await term.type("hello there");
      await term.press("Enter");
      const first = (await expected([{ role: "user", content: "hello there" }])).message;
      await term.waitForScreen((s) => prompts(s) === 2, "the first answer, then the prompt again");
      expect(flat(await term.screen())).toContain(first.content);

      // the second question is asked with the first turn before it
      await term.type("and then?");
      await term.press("Enter");
      const conversation = [{ role: "user", content: "hello there" }, first, { role: "user", content: "and then?" }];
      const second = (await expected(conversation)).message.content;
      expect(second).not.toBe((await expected([{ role: "user", content: "and then?" }])).message.content);
      await term.waitForScreen((s) => prompts(s) === 3, "the second answer");
      expect(flat(await term.screen())).toContain(second);

      await term.type("/?");
      await term.press("Enter");
      await term.waitForScreen((s) => s.includes("/clear          Clear session context"), "the help");
      await term.type("/frobnicate");
      await term.press("Enter");
      await term.waitForScreen((s) => s.includes("Unknown command '/frobnicate'. Type /? for help"), "the unknown command");

      // a message of several lines, after /clear forgot the conversation
      await term.type("/clear");
      await term.press("Enter");
      await term.waitForScreen((s) => s.includes("Cleared session context"), "the conversation cleared");
      await term.type('"""line one');
      await term.press("Enter");
      await term.waitForScreen((s) => s.endsWith("..."), "the continuation prompt");
      await term.type('line two"""');
      await term.press("Enter");
      const multi = (await expected([{ role: "user", content: "line one\nline two" }])).message.content;
      await term.waitForScreen((s) => flat(s).includes(multi) && s.endsWith(">>>"), "the multi-line answer");

      await term.type("/bye");
      await term.press("Enter");
      expect(await term.exitCode()).toBe(0);
    } finally {
      await term.stop();
    }
  });

  test("Ctrl-C stops the answer and aborts it at the target; Ctrl-C at the prompt hints; Ctrl-D quits", async () => {
    const term = await open(["llama3.2"]);
    try {
      await term.waitForScreen((s) => s.endsWith(">>>"), "the prompt");
      const aborted = stack.sim.counters.aborted;
      const full = (await expected([{ role: "user", content: "tell me a long story" }])).message.content;
      await term.type("tell me a long story");
      await term.press("Enter");
      // a few words in, stop it
      const firstWords = full.split(" ").slice(0, 3).join(" ");
      await term.waitForScreen((s) => s.includes(firstWords), "the answer to start");
      await term.press("C-c");
      await waitFor(() => stack.sim.counters.aborted > aborted, { what: "the simulator to see the request aborted" });
      const screen = await term.waitForScreen((s) => prompts(s) === 2, "the prompt after the stopped answer");
      expect(screen).not.toContain(full);
      // the stopped turn is not part of the conversation: the next answer is a first answer
      await term.type("hi");
      await term.press("Enter");
      await term.waitForScreen((s) => prompts(s) === 3, "the next answer");
      expect(flat(await term.screen())).toContain((await expected([{ role: "user", content: "hi" }])).message.content);

      await term.press("C-c");
      await term.waitForScreen((s) => s.includes("Use Ctrl + d or /bye to exit."), "the hint");
      await term.press("C-d");
      expect(await term.exitCode()).toBe(0);
    } finally {
      await term.stop();
    }
  });

  test("a model the target does not have: asked whether to pull it; no ends before the first prompt (exit 3), with the closest name", async () => {
    const term = await open(["lama3.2"]);
    try {
      await term.waitForScreen((s) => s.endsWith('model "lama3.2" is not on the target; pull it now? [y/N]'), "the question");
      await term.type("n");
      await term.press("Enter");
      expect(await term.exitCode()).toBe(3);
      expect((await term.screen()).split("\n").slice(1).join("\n")).toBe('foreman run: model "lama3.2" not found; did you mean "llama3.2"? (to get it: foreman pull lama3.2, or run with --pull)\n[exit 3]');
    } finally {
      await term.stop();
    }
  });

  test("yes pulls it (progress on the terminal), then the chat starts with it", async () => {
    const term = await open(["gemma2:2b"]);
    try {
      await term.waitForScreen((s) => s.includes("pull it now? [y/N]"), "the question");
      await term.type("y");
      await term.press("Enter");
      await term.waitForScreen((s) => s.includes("Chatting with gemma2:2b") && s.endsWith(">>>"), "the chat, after the pull");
      expect(await term.screen()).toMatch(/gemma2:2b 100% ▕█+▏ .*success/);
      await term.press("C-d");
      expect(await term.exitCode()).toBe(0);
    } finally {
      await term.stop();
    }
  });

  test("a bracketed paste of several lines is one message; so is a pasted \"\"\" block", async () => {
    const term = await open(["llama3.2"]);
    try {
      await term.waitForScreen((s) => s.endsWith(">>>"), "the prompt");
      await term.paste("first line\nsecond line");
      await term.press("Enter");
      const one = (await expected([{ role: "user", content: "first line\nsecond line" }])).message;
      await term.waitForScreen((s) => prompts(s) === 2, "the answer to the pasted message");
      expect(flat(await term.screen())).toContain(one.content);
      await term.type("/clear");
      await term.press("Enter");
      await term.paste('"""\nalpha\nbeta\n"""');
      await term.press("Enter");
      const block = (await expected([{ role: "user", content: "\nalpha\nbeta\n" }])).message.content;
      await term.waitForScreen((s) => prompts(s) >= 3 && flat(s).includes(block), "the answer to the pasted block");
      await term.press("C-d");
      expect(await term.exitCode()).toBe(0);
    } finally {
      await term.stop();
    }
  });

  test('lines typed in one go (a paste without brackets) are all read: a """ block arrives whole', async () => {
    const term = await open(["llama3.2"]);
    try {
      await term.waitForScreen((s) => s.endsWith(">>>"), "the prompt");
      await term.press('"""', "Enter", "alpha", "Enter", "beta", "Enter", '"""', "Enter");
      // the same message as the bracketed paste of this block
      const block = (await expected([{ role: "user", content: "\nalpha\nbeta\n" }])).message.content;
      const screen = await term.waitForScreen((s) => flat(s).includes(block) && s.endsWith(">>>"), "the answer to the whole block");
      // each line at its own prompt, as if typed one by one
      expect(screen).toContain('>>> """\n... alpha\n... beta\n... """\n');
      await term.press("C-d");
      expect(await term.exitCode()).toBe(0);
    } finally {
      await term.stop();
    }
  });

  test("lines typed while an answer streams are kept and sent after it, in order", async () => {
    const term = await open(["llama3.2"]);
    try {
      await term.waitForScreen((s) => s.endsWith(">>>"), "the prompt");
      await term.type("tell me a long story");
      await term.press("Enter");
      const first = (await expected([{ role: "user", content: "tell me a long story" }])).message;
      await term.waitForScreen((s) => flat(s).includes(first.content.split(" ").slice(0, 3).join(" ")), "the answer to start");
      await term.type("and then?");
      await term.press("Enter");
      await term.type("and after that?");
      await term.press("Enter");
      const asked = [{ role: "user", content: "tell me a long story" }, first, { role: "user", content: "and then?" }];
      const second = (await expected(asked)).message;
      const third = (await expected([...asked, second, { role: "user", content: "and after that?" }])).message.content;
      // (the terminal echoes them where they were typed, amid the answer, as under ollama run)
      await term.waitForScreen((s) => flat(s).includes(third) && prompts(s) === 4, "the answers to both lines typed meanwhile");
      expect(flat(await term.screen())).toContain(second.content);
      await term.press("C-d");
      expect(await term.exitCode()).toBe(0);
    } finally {
      await term.stop();
    }
  });


  test("words wrap before the edge of a narrow terminal, none cut; --nowordwrap leaves it to the terminal", async () => {
    const question = "wrap this answer";
    const content = (await expected([{ role: "user", content: question }])).message.content;
    const term = await openTerminal([BUN, MAIN, "run", "llama3.2", question], { env: { FOREMAN_URL: stack.url }, cols: 40 });
    try {
      expect(await term.exitCode()).toBe(0);
      const lines = (await term.screen()).split("\n").slice(0, -1);
      expect(lines.length).toBeGreaterThan(1);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(35);
      expect(lines.join(" ")).toBe(content);
    } finally {
      await term.stop();
    }
  });

  test("a thinking model's thinking in Ollama's frame on the terminal; --hidethinking shows the answer alone", async () => {
    const asked = [{ role: "user", content: "ponder" }];
    const res = await fetch(`${stack.sim.url}/api/chat`, { method: "POST", body: JSON.stringify({ model: "qwen3:0.6b", messages: asked, stream: false }) });
    const { message } = (await res.json()) as { message: Message & { thinking: string } };
    const shown = await openTerminal([BUN, MAIN, "run", "qwen3:0.6b", "ponder", "--nowordwrap"], { env: { FOREMAN_URL: stack.url }, cols: 200 });
    const hidden = await openTerminal([BUN, MAIN, "run", "qwen3:0.6b", "ponder", "--hidethinking"], { env: { FOREMAN_URL: stack.url }, cols: 200 });
    try {
      expect(await shown.exitCode()).toBe(0);
      expect(await shown.screen()).toBe(`Thinking...\n${message.thinking}\n...done thinking.\n\n${message.content}\n[exit 0]`);
      expect(await hidden.exitCode()).toBe(0);
      expect(await hidden.screen()).toBe(`${message.content}\n[exit 0]`);
    } finally {
      await shown.stop();
      await hidden.stop();
    }
  });

  test("while the target is down: a line says so and since when; Ctrl-C does not claim the target canceled anything", async () => {
    const down = await startStack({ foreman: { pollIntervalMs: 100 } });
    try {
      await down.sim.setFaults({ asleep: true });
      await waitFor(async () => ((await (await fetch(`${down.url}/status`)).json()) as { target: { up: boolean } }).target.up === false, { what: "foreman to see the target down" });
      const term = await openTerminal([BUN, MAIN, "run", "llama3.2", "hello?"], { env: { FOREMAN_URL: down.url }, cols: 200 });
      try {
        const screen = await term.waitForScreen((s) => s.includes("waiting for the target"), "the waiting line");
        expect(screen).toMatch(new RegExp(`waiting for the target \\(${down.sim.url}\\): down since \\d\\d:\\d\\d:\\d\\d \\(\\d+s\\); the request waits in foreman's queue until it answers`));
        await term.press("C-c");
        expect(await term.exitCode()).toBe(1);
        const after = await term.screen();
        expect(after).toMatch(/foreman run: stopped: the request left foreman's queue; it never reached the target \(down since \d\d:\d\d:\d\d\)/);
        expect(after).not.toContain("canceled at the target");
      } finally {
        await term.stop();
      }
    } finally {
      await down.stop();
    }
  });

  test("with a prompt on a terminal, Ctrl-C stops it: exit 1, aborted at the target", async () => {
    const aborted = stack.sim.counters.aborted;
    const term = await open(["llama3.2", "another long story"]);
    try {
      const full = (await expected([{ role: "user", content: "another long story" }])).message.content;
      await term.waitForScreen((s) => s.includes(full.split(" ").slice(0, 3).join(" ")), "the answer to start");
      await term.press("C-c");
      expect(await term.exitCode()).toBe(1);
      expect(await term.screen()).toContain("foreman run: stopped: the answer was canceled at the target");
      await waitFor(() => stack.sim.counters.aborted > aborted, { what: "the simulator to see the request aborted" });
    } finally {
      await term.stop();
    }
  });
});
