// Runs what the arguments name in the command table: the usage for --help (and for a group
// named without its command), one line and exit 2 for a usage mistake, else the command's
// handler — and any error it throws as one line and the exit code ADR 0009 gives it. A
// mistyped command gets the closest one as a suggestion.
import { describeError, EXIT, UsageError } from "./exit-codes.ts";
import { closest } from "./suggest.ts";
import { parseFlags, resolve, usage, wantsHelp, type CommandSpec } from "./spec.ts";

export async function runCli(root: CommandSpec, argv: readonly string[]): Promise<number> {
  const { spec, path, rest } = resolve(root, argv);
  const name = ["foreman", ...path].join(" ");
  if (wantsHelp(rest)) {
    process.stdout.write(usage(spec, path));
    return EXIT.ok;
  }
  try {
    const word = rest[0];
    if (spec.commands?.length && !spec.arity && word !== undefined && !word.startsWith("-")) {
      const near = closest(word, spec.commands.flatMap((c) => [c.name, ...(c.aliases ?? [])]));
      throw new UsageError(`unknown command "${word}"${near ? `; did you mean "${near}"?` : ""}`);
    }
    if (!spec.run) {
      process.stderr.write(usage(spec, path));
      return EXIT.usage;
    }
    const { values, positionals } = parseFlags(spec, rest);
    const handler = await spec.run();
    return await handler({ values, positionals, args: rest, root });
  } catch (err) {
    const { code, message } = describeError(err);
    console.error(`${name}: ${message}${code === EXIT.usage ? ` (see ${name} --help)` : ""}`);
    return code;
  }
}
