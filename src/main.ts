#!/usr/bin/env bun
// The foreman executable: `foreman [serve]` runs the daemon; other subcommands are tools
// around it (the job CLI, model pulls, the simulator, a health probe for containers).
import { defaultUrl } from "./cli/connection.ts";
import { helpText, loadConfig } from "./config.ts";
import { startForeman, type Foreman } from "./server.ts";
import { VERSION } from "./ops/version.ts";

const USAGE = `foreman ${VERSION} — a queued, observable Ollama/OpenAI endpoint in front of one Ollama server

Usage:
  foreman [serve] [options]     run the daemon
  foreman jobs <command>        submit, get, ls, cancel, wait for jobs and fetch artifacts (try: foreman jobs --help)
  foreman pull MODEL...         have the target pull models, with progress (try: foreman pull --help)
  foreman sim [--port N]        run the Ollama simulator on its own (try: foreman sim --help)
  foreman healthcheck [--url U] exit 0 when foreman at U (default $FOREMAN_URL, else http://127.0.0.1:$FOREMAN_PORT) is healthy
  foreman --help | --version

Options (each also an environment variable; flags win):
${helpText()}
`;

async function serve(args: string[]): Promise<number> {
  const result = loadConfig(args);
  if (!result.ok) {
    console.error(`foreman: ${result.error}`);
    return 2;
  }
  // a signal that arrives while foreman starts stops it as soon as it is up
  const { promise, resolve } = Promise.withResolvers<number>();
  let foreman: Foreman | undefined;
  let signalled: string | undefined;
  const shutdown = (signal: string) => {
    if (!foreman) {
      signalled ??= signal;
      return;
    }
    foreman.services.log.info("shutting down", { signal });
    foreman.stop().then(() => resolve(0), () => resolve(1));
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  try {
    foreman = await startForeman(result.config);
  } catch (err) {
    console.error(`foreman: ${(err as Error).message}`);
    return 1;
  }
  if (signalled) shutdown(signalled);
  return promise;
}

async function healthcheck(args: string[]): Promise<number> {
  const i = args.indexOf("--url");
  const url = (i >= 0 ? args[i + 1] : undefined) || defaultUrl();
  try {
    const res = await fetch(`${url.replace(/\/$/, "")}/healthz`, { signal: AbortSignal.timeout(3000) });
    return res.ok ? 0 : 1;
  } catch {
    return 1;
  }
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "--help" || first === "-h" || first === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  if (first === "--version" || first === "-v") {
    console.log(VERSION);
    return 0;
  }
  switch (first) {
    case "sim": {
      const { simCommand } = await import("./sim/cli.ts");
      return simCommand(rest);
    }
    case "jobs": {
      const { jobsCommand } = await import("./cli/jobs.ts");
      return jobsCommand(rest);
    }
    case "pull": {
      const { pullCommand } = await import("./cli/pull.ts");
      return pullCommand(rest);
    }
    case "healthcheck":
      return healthcheck(rest);
    case "serve":
      return serve(rest);
    case undefined:
      return serve([]);
    default:
      if (first.startsWith("--")) return serve(argv);
      console.error(`foreman: unknown command "${first}" (see foreman --help)`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
