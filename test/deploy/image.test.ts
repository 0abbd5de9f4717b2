// The FROM scratch image, built and run with podman (no Docker engine here): the final
// stage is built from a local folder standing in for the `build` stage, then the container
// must answer /healthz, stream /api/chat from its built-in simulator, run its own health
// check, and keep its database in the mounted volume. Skipped without podman — never in CI.
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { chmodSync, existsSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../harness.ts";

const root = join(import.meta.dir, "..", "..");
const podman = Bun.which("podman");
const IMAGE = "localhost/foreman-test:ci";
const NAME = `foreman-test-${process.pid}`;

if (!podman) {
  if (process.env.CI) throw new Error("podman is required in CI for the image test (.ci/run installs it from Debian)");
  console.warn("test/deploy/image.test.ts: skipped — podman is not installed (apt-get install podman runc); CI runs it");
}

async function sh(args: string[], opts: { allowFail?: boolean; withStderr?: boolean } = {}): Promise<string> {
  const proc = Bun.spawn(args, { cwd: root, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0 && !opts.allowFail) throw new Error(`${args.join(" ")} exited ${code}:\n${err}`);
  return opts.withStderr ? out + err : out;
}
const pm = (...args: string[]) => ["podman", "--runtime", "/usr/sbin/runc", ...args];

afterAll(async () => {
  if (!podman) return;
  await sh(pm("rm", "-f", NAME), { allowFail: true });
  await sh(pm("rmi", "-f", IMAGE), { allowFail: true });
});

test.skipIf(!podman)(
  "the scratch image holds only the executable and its run-time files, serves, streams, and writes /data",
  async () => {
    const context = tempDir("foreman-image-");
    const data = tempDir("foreman-data-");
    chmodSync(data.path, 0o777); // the container runs as uid 10001
    try {
      await sh(["sh", "scripts/image-context.sh", context.path]);
      await sh(pm("build", "--format", "docker", "--build-context", `build=${context.path}`, "-t", IMAGE, "-f", "Dockerfile", "."));

      const ctr = (await sh(pm("create", IMAGE))).trim();
      const tree = (await sh(["sh", "-c", `podman --runtime /usr/sbin/runc export ${ctr} | tar -t | sort`])).trim().split("\n");
      await sh(pm("rm", ctr));
      console.log(`image file tree:\n  ${tree.join("\n  ")}`);
      const unexpected = tree.filter((p) => !/^(foreman|data\/|tmp\/|etc\/|etc\/ssl\/|etc\/ssl\/certs\/|etc\/ssl\/certs\/ca-certificates\.crt|etc\/passwd|etc\/group|lib\/|lib\/x86_64-linux-gnu\/|lib\/x86_64-linux-gnu\/lib\w+\.so\.\d+|lib64\/|lib64\/ld-linux-x86-64\.so\.2|dev\/.*|proc\/|sys\/|run\/.*|etc\/(hosts|hostname|resolv\.conf|mtab))$/.test(p));
      expect(unexpected).toEqual([]);
      expect(tree).toContain("foreman");
      const size = (await sh(pm("image", "inspect", IMAGE, "--format", "{{.Size}}"))).trim();
      console.log(`image size: ${(Number(size) / 1e6).toFixed(1)} MB`);

      const port = 20000 + Math.floor(Math.random() * 20000);
      await sh(pm("run", "-d", "--name", NAME, "--network", "host", "--no-healthcheck", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1000:1000", "-e", `FOREMAN_PORT=${port}`, "-e", "FOREMAN_HOST=127.0.0.1", "-e", "FOREMAN_TARGET=sim", "-v", `${data.path}:/data`, IMAGE));
      const url = `http://127.0.0.1:${port}`;
      let healthy = false;
      for (let i = 0; i < 100 && !healthy; i++) {
        healthy = await fetch(`${url}/healthz`).then((r) => r.status === 200, () => false);
        if (!healthy) await Bun.sleep(100);
      }
      if (!healthy) throw new Error(`the container did not become healthy:\n${await sh(pm("logs", NAME), { allowFail: true, withStderr: true })}`);
      const chat = await fetch(`${url}/api/chat`, { method: "POST", body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] }) });
      expect(chat.headers.get("content-type")).toBe("application/x-ndjson");
      const lines = (await chat.text()).trim().split("\n").map((l) => JSON.parse(l) as { done: boolean });
      expect(lines.length).toBeGreaterThan(2);
      expect(lines.at(-1)!.done).toBe(true);
      // the HEALTHCHECK command, run inside the image (no shell there)
      await sh(pm("exec", NAME, "/foreman", "healthcheck"));
      expect(existsSync(join(data.path, "foreman.db"))).toBe(true);
      // a backup from inside the image (no sqlite3 there: the executable makes it), while it runs
      const backup = await sh(pm("exec", NAME, "/foreman", "backup", "/data/backup.db"));
      expect(backup).toMatch(/^copied \/data\/foreman\.db to \/data\/backup\.db: \d+ jobs, .*integrity ok\n$/);
      const copy = new Database(join(data.path, "backup.db"), { readonly: true });
      expect(copy.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
      copy.close();
      await sh(pm("stop", "-t", "10", NAME));
      const logs = await sh(pm("logs", NAME), { withStderr: true });
      expect(logs).toContain('"msg":"foreman stopped"');
    } finally {
      await sh(pm("rm", "-f", NAME), { allowFail: true });
      context.remove();
      data.remove();
    }
  },
  300_000,
);
