// The standard process metrics every Prometheus client library exports, named, typed and
// described as the Go client does (process_cpu_seconds_total, process_resident_memory_bytes, …),
// so dashboards and alerts written for any exporter work on foreman unchanged. On Linux memory
// and file descriptors come from /proc/self, as the Go client reads them; elsewhere only what the
// runtime knows (resident memory). CPU time is the runtime's getrusage on every platform.
import { readdirSync, readFileSync } from "node:fs";
import { Sampled, type Registry } from "./metrics.ts";

/** /proc/self/status: resident and virtual memory, in bytes (the file says kB). */
export function parseStatus(text: string): { residentBytes?: number; virtualBytes?: number } {
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  return { residentBytes: kb("VmRSS"), virtualBytes: kb("VmSize") };
}

/** /proc/self/limits: the soft limit on open files; undefined when unlimited or absent. */
export function parseMaxFds(text: string): number | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  return m && m[1] !== "unlimited" ? Number(m[1]) : undefined;
}

/** What `read` finds under /proc/self, or undefined where there is none (not Linux, or no /proc mounted). */
function procSelf<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

const one = (value: number | undefined) => (value === undefined ? [] : [{ value }]);

/** The process metrics, read at scrape time; `perRender` makes the two memory gauges share one read of /proc. */
export function processMetrics(perRender: Registry["perRender"]): Sampled[] {
  // constant for the life of the process, as the Go client reads it
  const startTime = Date.now() / 1000 - process.uptime();
  const memory = perRender(() => {
    const status = procSelf(() => readFileSync("/proc/self/status", "utf8"));
    return status === undefined ? { residentBytes: process.memoryUsage().rss } : parseStatus(status);
  });
  return [
    new Sampled("counter", "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", () => {
      const { user, system } = process.cpuUsage();
      return [{ value: (user + system) / 1e6 }];
    }),
    new Sampled("gauge", "process_open_fds", "Number of open file descriptors.", () => one(procSelf(() => readdirSync("/proc/self/fd"))?.length)),
    new Sampled("gauge", "process_max_fds", "Maximum number of open file descriptors.", () => {
      const limits = procSelf(() => readFileSync("/proc/self/limits", "utf8"));
      return one(limits === undefined ? undefined : parseMaxFds(limits));
    }),
    new Sampled("gauge", "process_virtual_memory_bytes", "Virtual memory size in bytes.", () => one(memory().virtualBytes)),
    new Sampled("gauge", "process_resident_memory_bytes", "Resident memory size in bytes.", () => one(memory().residentBytes)),
    new Sampled("gauge", "process_start_time_seconds", "Start time of the process since unix epoch in seconds.", () => [{ value: startTime }]),
  ];
}
