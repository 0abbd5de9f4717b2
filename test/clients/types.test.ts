// The client's types are generated from the server's TypeBox schemas; a schema change that
// was not regenerated (`npm run client:types`) fails here.
import { expect, test } from "bun:test";
import { CLIENT_TYPES_FILE, renderClientTypes } from "../../scripts/gen-client-types.ts";

test("clients/ts/api.gen.ts matches the server's schemas", async () => {
  expect(await Bun.file(CLIENT_TYPES_FILE).text()).toBe(await renderClientTypes());
});
