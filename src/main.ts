#!/usr/bin/env bun
// The foreman executable: `foreman [serve]` runs the daemon; the other commands are tools
// around it. Every command, its flags and its help are in the table of src/cli/commands.ts.
import { COMMANDS } from "./cli/commands.ts";
import { runCli } from "./cli/dispatch.ts";

process.exitCode = await runCli(COMMANDS, process.argv.slice(2));
