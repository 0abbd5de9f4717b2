// docs/deploy.md's configuration snippets work as written: the Prometheus config (with the
// shipped alert rules) passes `promtool check config`, and the Traefik static configuration
// sets the entrypoint read timeout where Traefik v3 reads it.
import { describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promtool, root, runPromtool } from "./promql.ts";

const doc = await Bun.file(join(root, "docs", "deploy.md")).text();

/** The ```yaml block whose first line is `# <name>`. */
function yamlBlock(name: string): string {
  const block = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.startsWith(`# ${name}\n`));
  if (!block) throw new Error(`docs/deploy.md has no yaml block starting "# ${name}"`);
  return block;
}

describe("docs/deploy.md", () => {
  test.skipIf(!promtool && !process.env.CI)("the Prometheus scrape config, with the token file and the alert rules, passes promtool check config", async () => {
    expect(promtool, "promtool is expected in CI (.ci/run installs Debian's prometheus package)").toBeTruthy();
    const dir = mkdtempSync(join(tmpdir(), "foreman-prometheus-"));
    try {
      const config = yamlBlock("prometheus.yml");
      expect(config).toContain("job_name: foreman");
      expect(config).toMatch(/authorization:\n\s+type: Bearer\n\s+credentials_file:/);
      writeFileSync(join(dir, "foreman-token"), "a-long-random-token\n");
      copyFileSync(join(root, "deploy", "prometheus", "alerts.yml"), join(dir, "foreman-alerts.yml"));
      writeFileSync(join(dir, "prometheus.yml"), config.replaceAll("/etc/prometheus/", `${dir}/`));
      const result = await runPromtool(["check", "config", join(dir, "prometheus.yml")]);
      expect(result.output).toContain("SUCCESS: 10 rules found");
      expect(result.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the offline image build is the route test/deploy/image.test.ts builds the image by", async () => {
    const block = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes("image-context.sh"));
    expect(block, "docs/deploy.md shows scripts/image-context.sh").toBeDefined();
    const [prepare, build] = block!.trim().split("\n").map((line) => line.replace(/\s+#.*$/, "").trim());
    expect(prepare).toBe("sh scripts/image-context.sh /tmp/foreman-context");
    expect(build).toBe("podman build --build-context build=/tmp/foreman-context -t foreman -f Dockerfile .");
    // the same script and flags as the image test
    const imageTest = await Bun.file(join(root, "test", "deploy", "image.test.ts")).text();
    expect(imageTest).toContain('sh(["sh", "scripts/image-context.sh", context.path])');
    expect(imageTest).toContain('"--build-context", `build=${context.path}`, "-t", IMAGE, "-f", "Dockerfile", "."');
  });

  test("the Traefik static configuration lifts the entrypoint's read timeout", () => {
    const traefik = Bun.YAML.parse(yamlBlock("traefik.yml")) as { entryPoints: Record<string, { transport: { respondingTimeouts: { readTimeout: string } } }> };
    expect(traefik.entryPoints.websecure?.transport.respondingTimeouts.readTimeout).toBe("0s");
    expect(doc).toContain("--entryPoints.websecure.transport.respondingTimeouts.readTimeout=0s");
  });
});
