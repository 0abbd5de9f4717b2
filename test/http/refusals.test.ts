// Refusals reach the client (ADR 0031): foreman refuses some requests before it reads their body
// (no token, no such route, a declared length over the limit). A client still sending the body
// must get the refusal, not a broken pipe — so the edge reads and discards what is coming before
// it answers, as Go's server does. Checked with the clients that broke: Node's fetch with a
// FormData body, openai-node's multipart upload, and a raw socket that sends two requests at once.
import { describe, expect, test } from "bun:test";
import { connect } from "node:net";
import OpenAI, { toFile } from "openai";
import { perTest } from "../harness.ts";

const start = perTest();

/** Runs `script` under Node (its own fetch, undici), and returns what it printed. */
async function underNode(script: string): Promise<string> {
  const proc = Bun.spawn(["node", "--input-type=module", "-e", script], { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  return (out + err).trim();
}

/** Node's fetch posting a FormData body with a 200 KiB file, printing the status or the failure. */
const nodeFormData = (url: string, headers: Record<string, string> = {}) => `
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(200 * 1024)]), "a.wav");
  form.append("model", "llama3.2");
  try {
    const res = await fetch(${JSON.stringify(url)}, { method: "POST", body: form, headers: ${JSON.stringify(headers)} });
    console.log(res.status, JSON.stringify(await res.json()));
  } catch (err) {
    console.log("failed:", err.cause?.code ?? err.message);
  }`;

describe("a refusal made before the body is read", () => {
  test("Node's fetch with a FormData body gets the 401, not a broken pipe", async () => {
    const { url } = await start.stack({ foreman: { token: "s3cret" } });
    for (let i = 0; i < 3; i++) {
      const printed = await underNode(nodeFormData(`${url}/v1/audio/transcriptions`));
      expect(printed).toStartWith("401 ");
      expect(JSON.parse(printed.slice(4))).toMatchObject({ error: { type: "authentication_error" } });
    }
    // and a path foreman has no route for: the plain-text 404 arrives
    const proc = await underNode(`
      const form = new FormData();
      form.append("file", new Blob([new Uint8Array(200 * 1024)]), "a.bin");
      try { const res = await fetch(${JSON.stringify(`${url}/nope`)}, { method: "POST", body: form, headers: { authorization: "Bearer s3cret" } }); console.log(res.status, await res.text()); }
      catch (err) { console.log("failed:", err.cause?.code ?? err.message); }`);
    expect(proc).toBe("404 404 page not found");
  });

  test("a browser origin foreman refuses: Node's fetch with a FormData body gets the 403, not a broken pipe", async () => {
    const { url } = await start.stack();
    for (let i = 0; i < 3; i++) {
      const printed = await underNode(nodeFormData(`${url}/v1/audio/transcriptions`, { origin: "https://evil.example" }).replace("JSON.stringify(await res.json())", "await res.text()"));
      expect(printed).toBe("403");
    }
  });

  test("a body over FOREMAN_MAX_BODY_BYTES: Node's fetch gets the 413 in the caller's dialect", async () => {
    const { url } = await start.stack({ foreman: { maxBodyBytes: 64 * 1024 } });
    const printed = await underNode(nodeFormData(`${url}/v1/audio/transcriptions`));
    expect(printed).toStartWith("413 ");
    expect(JSON.parse(printed.slice(4))).toMatchObject({ error: { message: "request body is larger than 65536 bytes", type: "invalid_request_error" } });
  });

  test("openai-node's transcription upload: the 401 is an AuthenticationError (not retried as a connection error), and with the token it runs", async () => {
    const { url } = await start.stack({ foreman: { token: "s3cret" } });
    const file = async () => toFile(new Uint8Array(300 * 1024).fill(7), "speech.wav");
    const without = new OpenAI({ baseURL: `${url}/v1`, apiKey: "wrong", maxRetries: 0 });
    const refused = await without.audio.transcriptions.create({ file: await file(), model: "llama3.2" }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((refused as InstanceType<typeof OpenAI.AuthenticationError>).status).toBe(401);
    const withToken = new OpenAI({ baseURL: `${url}/v1`, apiKey: "s3cret", maxRetries: 0 });
    expect(String(await withToken.audio.transcriptions.create({ file: await file(), model: "llama3.2" }))).toContain('"text"');
  });

  test("a short body is read to its end: the connection stays open for the next request", async () => {
    const { foreman } = await start.stack({ foreman: { token: "s3cret" } });
    const body = '{"model":"llama3.2","messages":[]}';
    const text = await new Promise<string>((resolve) => {
      let got = "";
      const socket = connect(foreman.port, "127.0.0.1", () => {
        const request = `POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
        socket.write(request + request);
      });
      socket.setEncoding("latin1");
      socket.on("data", (d: string) => {
        got += d;
        if (got.split("HTTP/1.1 401").length === 3) resolve(got);
      });
      socket.on("close", () => resolve(got));
    });
    expect(text.split("HTTP/1.1 401").length - 1).toBe(2);
    expect(text.toLowerCase()).not.toContain("connection: close");
  });
});
