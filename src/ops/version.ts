// The version printed by --version and reported in /openapi.json and /status.
import pkg from "../../package.json" with { type: "json" };

export const VERSION: string = pkg.version;

/** What `foreman --version` prints: the version and what this foreman is, since other programs share the name. */
export const VERSION_LINE = `foreman ${VERSION} — queue in front of Ollama`;
