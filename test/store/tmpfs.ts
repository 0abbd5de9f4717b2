// A real full disk, for the tests of what foreman does when its files cannot be written: a small
// tmpfs, mounted directly where the test may (root), else inside a user and mount namespace
// (`unshare -rm`); where neither works, the tests skip and say why.
import { tempDir } from "../harness.ts";

/** Runs `argv` to its end: whether it succeeded, and what it printed. */
export function run(argv: string[]): { ok: boolean; out: string } {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  return { ok: r.exitCode === 0, out: `${r.stdout.toString()}${r.stderr.toString()}`.trim() };
}

/** How this machine lets a test mount a tmpfs: here, in a user namespace, or not at all (and why). */
export type TmpfsSupport = { how: "here" } | { how: "unshare" } | { how: "none"; why: string };

export function tmpfsSupport(): TmpfsSupport {
  const probe = tempDir();
  try {
    const here = run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe.path]);
    if (here.ok) {
      run(["umount", probe.path]);
      return { how: "here" };
    }
    const ns = run(["unshare", "-rm", "sh", "-c", `mount -t tmpfs -o size=64k tmpfs ${probe.path}`]);
    return ns.ok ? { how: "unshare" } : { how: "none", why: `mount: ${here.out}; unshare -rm: ${ns.out}` };
  } finally {
    probe.remove();
  }
}

/** Mounts a tmpfs of `size` (mount's `size=` value) on `dir` here; `defer` unmounts it at the test's end. */
export function mountTmpfs(dir: string, size: string, defer: (stop: () => unknown) => void): void {
  const mounted = run(["mount", "-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  if (!mounted.ok) throw new Error(`mount -t tmpfs failed: ${mounted.out}`);
  defer(() => run(["umount", "-l", dir]));
}
