// A real terminal for CLI tests: a tmux session on its own server socket (so nothing else's
// tmux is touched), driven with send-keys and read with capture-pane, every wait bounded.
// Tests that need it skip cleanly when tmux is not installed.
import { rmSync } from "node:fs";
import { waitFor } from "../harness.ts";

export const TMUX = Bun.which("tmux");

if (!TMUX) console.warn("terminal tests skipped: tmux is not installed (apt-get install tmux)");

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
let sessions = 0;

export interface Terminal {
  /** Types text literally (no key names). */
  type(text: string): Promise<void>;
  /** Pastes text as a terminal does: bracketed (marked as a paste) when the program asked for it, newlines as Enter. */
  paste(text: string): Promise<void>;
  /** Presses keys by tmux name: "Enter", "C-c", "C-d", "Tab", "Up". */
  press(...keys: string[]): Promise<void>;
  /** The visible screen, wrapped lines joined, trailing blanks dropped. */
  screen(): Promise<string>;
  /** Waits until the screen satisfies `check`; returns that screen. */
  waitForScreen(check: (screen: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  /** The command's exit code once it has exited (the shell prints it), bounded. */
  exitCode(timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Runs `argv` in a fresh terminal of `cols` × `rows`, with `env` added to this process's
 * environment. When the command exits, the pane shows `[exit N]` and stays open.
 */
export async function openTerminal(argv: readonly string[], options: { env?: Record<string, string>; cols?: number; rows?: number; cwd?: string } = {}): Promise<Terminal> {
  const socket = `foreman-test-${process.pid}-${++sessions}`;
  const tmux = async (...args: string[]) => {
    const proc = Bun.spawn([TMUX!, "-L", socket, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...options.env } });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`tmux ${args[0]} failed (${code}): ${err.trim()}`);
    return out;
  };
  const command = `${argv.map(quote).join(" ")}; echo "[exit $?]"; sleep 600`;
  await tmux("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", String(options.cols ?? 100), "-y", String(options.rows ?? 30), ...(options.cwd ? ["-c", options.cwd] : []), command);
  const screen = async () =>
    (await tmux("capture-pane", "-p", "-J", "-t", "t"))
      .split("\n")
      .map((line) => line.trimEnd())
      .join("\n")
      .trimEnd();
  const waitForScreen = async (check: (s: string) => boolean, what: string, timeoutMs = 15_000) => {
    let last = "";
    try {
      return await waitFor(
        async () => {
          last = await screen();
          return check(last) ? last : null;
        },
        { what, timeoutMs, intervalMs: 50 },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message.split(" (last seen")[0]}; the screen:\n${last}`);
    }
  };
  return {
    type: async (text) => void (await tmux("send-keys", "-t", "t", "-l", "--", text)),
    press: async (...keys) => void (await tmux("send-keys", "-t", "t", ...keys)),
    async paste(text) {
      await tmux("set-buffer", "-b", "p", "--", text);
      await tmux("paste-buffer", "-p", "-d", "-b", "p", "-t", "t");
    },
    screen,
    waitForScreen,
    async exitCode(timeoutMs) {
      const s = await waitForScreen((text) => /\[exit \d+\]/.test(text), "the command to exit", timeoutMs);
      return Number(/\[exit (\d+)\]/.exec(s)![1]);
    },
    async stop() {
      const path = (await tmux("display-message", "-p", "#{socket_path}").catch(() => "")).trim();
      await tmux("kill-server").catch(() => "");
      if (path) rmSync(path, { force: true });
    },
  };
}
