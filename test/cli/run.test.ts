// `foreman run`, as a person runs it: a prompt from the arguments or a pipe, --json, --job,
// errors and exit codes; and on a real terminal (tmux) the chat — a conversation that is kept,
// the commands, multi-line input, Ctrl-C that stops an answer and aborts it at the target,
// /bye and Ctrl-D.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Job } from "../../clients/ts/types.ts";
import { promptOf } from "../../src/cli/run.ts";
import { readPromptLine, CHAT_HELP } from "../../src/cli/interactive.ts";
import { BUN, MAIN, startStack, waitFor, type Stack } from "../harness.ts";
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
    expect(unknown.stderr).toBe("foreman run: HTTP 404: model 'no-such-model' not found\n");

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
      expect(await term.screen()).toContain(first.content);

      // the second question is asked with the first turn before it
      await term.type("and then?");
      await term.press("Enter");
      const conversation = [{ role: "user", content: "hello there" }, first, { role: "user", content: "and then?" }];
      const second = (await expected(conversation)).message.content;
      expect(second).not.toBe((await expected([{ role: "user", content: "and then?" }])).message.content);
      await term.waitForScreen((s) => prompts(s) === 3, "the second answer");
      expect(await term.screen()).toContain(second);

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
      await term.waitForScreen((s) => s.includes(multi) && s.endsWith(">>>"), "the multi-line answer");

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
      expect(await term.screen()).toContain((await expected([{ role: "user", content: "hi" }])).message.content);

      await term.press("C-c");
      await term.waitForScreen((s) => s.includes("Use Ctrl + d or /bye to exit."), "the hint");
      await term.press("C-d");
      expect(await term.exitCode()).toBe(0);
    } finally {
      await term.stop();
    }
  });

  test("a chat with a model the target does not have ends before the first prompt (exit 3)", async () => {
    const term = await open(["no-such-model"]);
    try {
      expect(await term.exitCode()).toBe(3);
      expect(await term.screen()).toBe("foreman run: HTTP 404: model 'no-such-model:latest' not found\n[exit 3]");
    } finally {
      await term.stop();
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
