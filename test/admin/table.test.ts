/**
 * The operations table is the admin API: every entry is a REST route in the served /openapi.json
 * (with its schemas, its auth and a documented example that passes those schemas) and a tRPC
 * procedure of the same kind (GET = query).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { operations } from "../../contracts/admin";
import { type AnyOperation, isQuery } from "../../contracts/operation";
import type { OperationImpls } from "../../src/http/operations";
import { createAdminRouter } from "../../src/http/trpc";
import { startTestServer, type TestServer } from "../helpers/server";

type Json = Record<string, unknown>;
let server: TestServer;
let doc: Json;
beforeAll(async () => {
  server = await startTestServer();
  doc = (await (await server.api("/openapi.json", { auth: false })).json()) as Json;
});
afterAll(() => server.close());

const all = operations as readonly AnyOperation[];
const openapiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
const expectedSecurity = { admin: [{ apiToken: [] }], user: [{ userJwt: [] }], public: [] };

describe.each(all.map((op) => [op.name, op] as const))("%s", (_name, op) => {
  test("is a REST route in /openapi.json with its schemas, auth and example", () => {
    const item = (doc.paths as Record<string, Json>)[openapiPath(op.path)];
    expect(item).toBeDefined();
    const entry = item?.[op.method.toLowerCase()] as Json;
    expect(entry.operationId).toBe(op.name);
    expect(entry.security).toEqual(expectedSecurity[op.auth]);
    expect(entry.summary).toBe(op.summary);
    const ok = (entry.responses as Record<string, Json>)["200"] as Json;
    const media = (ok.content as Record<string, Json>)["application/json"] as Json;
    expect(media.schema).toBeDefined();
    expect(media.example).toEqual(op.example.output as never);
    if (op.auth !== "public") expect((entry.responses as Json)["401"]).toBeDefined();
  });

  test("its example passes the operation's input and output schemas", () => {
    const input = op.input.safeParse(op.example.input);
    expect(input.success ? "ok" : input.error.message).toBe("ok");
    const output = op.output.safeParse(op.example.output);
    expect(output.success ? "ok" : output.error.message).toBe("ok");
  });
});

test("every operation is a tRPC procedure of the same kind, and nothing else is", () => {
  const unused = new Proxy({}, { get: () => () => undefined }) as unknown as OperationImpls;
  const procedures = (createAdminRouter(unused) as unknown as { _def: { procedures: Record<string, Json> } })._def
    .procedures;
  const kinds = Object.fromEntries(
    Object.entries(procedures).map(([name, p]) => [name, (p._def as { type: string }).type]),
  );
  expect(kinds).toEqual(Object.fromEntries(all.map((op) => [op.name, isQuery(op) ? "query" : "mutation"])));
});
