// Moved to ./harness.ts. Kept only while test/clients/node.test.ts (being replaced) imports
// it; import from ./harness.ts.
export * from "./harness.ts";
