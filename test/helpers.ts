// One line starts foreman (and, usually, the simulator) on loopback port 0 with a fresh
// database; everything is torn down by the returned stop().
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, type Config } from "../src/config.ts";
import { startForeman, type Foreman, type StartOptions } from "../src/server.ts";

export function tempDir(prefix = "foreman-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function testConfig(overrides: Partial<Config> = {}, dir = tempDir().path): Config {
  const parsed = parseConfig([], {});
  if (!parsed.ok) throw new Error(parsed.error);
  return { ...parsed.config, host: "127.0.0.1", port: 0, db: join(dir, "foreman.db"), logLevel: "silent", webhookAllow: "127.0.0.1", ...overrides };
}

export interface TestForeman extends Foreman {
  readonly dir: string;
}

export async function startTestForeman(overrides: Partial<Config> = {}, options: StartOptions = {}): Promise<TestForeman> {
  const dir = tempDir();
  const foreman = await startForeman(testConfig(overrides, dir.path), options);
  return {
    ...foreman,
    dir: dir.path,
    stop: async () => {
      await foreman.stop();
      dir.remove();
    },
  };
}

/** Path to the bun executable running the tests, for child-process tests. */
export const BUN = process.execPath;
export const MAIN = join(import.meta.dir, "..", "src", "main.ts");

/**
 * Reads a daemon's JSON log until its "foreman listening" line and returns the URL. The rest
 * of the log keeps being drained (into `log`) so the child never blocks or dies on a closed pipe.
 */
export async function listeningUrl(stream: ReadableStream<Uint8Array>, log: string[] = []): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`foreman exited before listening:\n${buffered}`);
    buffered += decoder.decode(value, { stream: true });
    const line = buffered.split("\n").find((l) => l.includes('"foreman listening"'));
    if (line) {
      log.push(buffered);
      void (async () => {
        for (;;) {
          const next = await reader.read().catch(() => ({ done: true, value: undefined }));
          if (next.done) return;
          log.push(decoder.decode(next.value));
        }
      })();
      return (JSON.parse(line) as { url: string }).url;
    }
  }
}
