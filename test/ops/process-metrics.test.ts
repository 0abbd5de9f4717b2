// /metrics carries the process metrics every Prometheus client exports, named and typed as they do.
import { describe, expect, test } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { existsSync } from "node:fs";
import { parseMaxFds, parseStatus } from "../../src/ops/process-metrics.ts";
import { sharedStack } from "../harness.ts";

describe("reading /proc/self", () => {
  test("status: resident and virtual memory in bytes", () => {
    const status = "Name:\tforeman\nVmPeak:\t  999 kB\nVmSize:\t  204800 kB\nVmRSS:\t   51200 kB\nThreads:\t9\n";
    expect(parseStatus(status)).toEqual({ residentBytes: 51200 * 1024, virtualBytes: 204800 * 1024 });
    expect(parseStatus("Name:\tx\n")).toEqual({ residentBytes: undefined, virtualBytes: undefined });
  });

  test("limits: the soft limit on open files", () => {
    const limits = "Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 524288               files     \n";
    expect(parseMaxFds(limits)).toBe(1024);
    expect(parseMaxFds(limits.replace("1024  ", "unlimited"))).toBeUndefined();
  });
});

describe("GET /metrics", () => {
  const stack = sharedStack();

  test("process_* metrics, with the types the Prometheus clients give them and plausible values", async () => {
    const text = await (await fetch(`${stack.url}/metrics`)).text();
    const families = Object.fromEntries(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
    const value = (name: string) => Number(families[name]?.metrics[0]?.value);
    expect(families.process_cpu_seconds_total?.type).toBe("COUNTER");
    for (const name of ["process_resident_memory_bytes", "process_start_time_seconds"]) expect(families[name]?.type).toBe("GAUGE");
    expect(value("process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(value("process_resident_memory_bytes")).toBeGreaterThan(1 << 20);
    // this test process is the foreman process: it started before now, and after the machine booted
    expect(value("process_start_time_seconds")).toBeLessThanOrEqual(Date.now() / 1000);
    expect(value("process_start_time_seconds")).toBeGreaterThan(Date.now() / 1000 - process.uptime() - 60);
    if (existsSync("/proc/self/status")) {
      for (const name of ["process_virtual_memory_bytes", "process_open_fds", "process_max_fds"]) expect(families[name]?.type).toBe("GAUGE");
      expect(value("process_virtual_memory_bytes")).toBeGreaterThanOrEqual(value("process_resident_memory_bytes"));
      expect(value("process_open_fds")).toBeGreaterThanOrEqual(3);
      expect(value("process_open_fds")).toBeLessThanOrEqual(value("process_max_fds"));
    }
  });
});
