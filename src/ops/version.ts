// The version printed by --version and reported in /openapi.json and /status.
import pkg from "../../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
