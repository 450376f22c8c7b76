/** `bun run docs` renders the HTML event docs, and the server serves them at /asyncapi. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { startTestServer, type TestServer } from "./helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

test("bun run docs, then GET /asyncapi", async () => {
  const proc = Bun.spawn(["bun", "scripts/docs.ts"], {
    cwd: join(import.meta.dir, ".."),
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(await proc.exited).toBe(0);
  const res = await server.api("/asyncapi", { auth: false });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/html");
  const html = await res.text();
  expect(html).toContain("Switchboard real-time API");
  expect(html).toContain("ping");
  // The docs page runs its own scripts: it must not get the API's deny-all CSP.
  expect(res.headers.get("content-security-policy")).toBeNull();
});
