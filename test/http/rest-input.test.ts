/**
 * REST query and path values are text; they are converted by the operation's input schema before
 * validation, so `GET …?limit=2` means what `{ limit: 2 }` means over tRPC.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { z } from "zod";
import { coerceInput, coerceValue, queryOf } from "../../src/http/coerce";
import { once, startTestServer, type TestServer } from "../helpers/server";

interface Page {
  totalConnections: number;
  connections: unknown[];
  nextCursor: string | null;
}
interface ErrorReply {
  error: { code: string; message: string; details: { issues: { path: string; message: string }[] } };
}

describe("over the wire: GET /api/socket/sockets/stats", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    for (const user of ["a", "b", "c"]) await once(server.socket({ token: await server.token(user) }), "connected");
  });
  afterAll(() => server.close());

  const stats = (query: string) => server.api(`/api/socket/sockets/stats?${query}`);

  test("limit=2 is the number 2", async () => {
    const res = await stats("limit=2");
    expect(res.status).toBe(200);
    const page = (await res.json()) as Page;
    expect(page.totalConnections).toBe(3);
    expect(page.connections).toHaveLength(2);
    expect(page.nextCursor).toBeString();
  });

  test("the same input over tRPC gives the same page", async () => {
    const page = await server.admin().sockets.stats.query({ limit: 2 });
    expect(page.connections).toHaveLength(2);
  });

  test("no limit: the default", async () => {
    expect(((await (await stats("")).json()) as Page).connections).toHaveLength(3);
  });

  for (const [query, why] of [
    ["limit=abc", "not a number"],
    ["limit=0", "below the minimum"],
    ["limit=2.5", "not an integer"],
    ["limit=", "empty"],
    ["limit=0x10", "hex is not a decimal number"],
    ["limit=2&limit=3", "given twice"],
  ] as const) {
    test(`${query} (${why}): 400 naming limit`, async () => {
      const res = await stats(query);
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as ErrorReply;
      expect(error.code).toBe("BAD_REQUEST");
      expect(error.details.issues.map((i) => i.path)).toEqual(["limit"]);
    });
  }
});

describe("coerceValue: by the field's schema", () => {
  test("numbers and integers, under optional / default / nullable", () => {
    expect(coerceValue(z.number(), "2")).toBe(2);
    expect(coerceValue(z.number().int().min(1).default(100), "-3")).toBe(-3);
    expect(coerceValue(z.number().optional().nullable(), "1.5e3")).toBe(1500);
    for (const text of ["", " 1", "abc", "0x10", "Infinity", "1,2"]) expect(coerceValue(z.number(), text)).toBe(text);
  });

  test("booleans: exactly true and false", () => {
    expect(coerceValue(z.boolean().optional(), "true")).toBe(true);
    expect(coerceValue(z.boolean(), "false")).toBe(false);
    expect(coerceValue(z.boolean(), "1")).toBe("1");
  });

  test("arrays: repeated keys or a comma list, each element by its schema", () => {
    expect(coerceValue(z.array(z.number()), ["1", "2"])).toEqual([1, 2]);
    expect(coerceValue(z.array(z.number()).optional(), "1,2,x")).toEqual([1, 2, "x"]);
    expect(coerceValue(z.array(z.string()), "a,b")).toEqual(["a", "b"]);
    expect(coerceValue(z.array(z.string()), "")).toEqual([]);
  });

  test("a repeated key for a single value stays an array (validation reports it)", () => {
    expect(coerceValue(z.number(), ["1", "2"])).toEqual(["1", "2"]);
  });

  test("literals, unions, bigints; strings and enums are left alone", () => {
    expect(coerceValue(z.literal(5), "5")).toBe(5);
    expect(coerceValue(z.union([z.number(), z.literal("all")]), "all")).toBe("all");
    expect(coerceValue(z.union([z.number(), z.literal("all")]), "7")).toBe(7);
    expect(coerceValue(z.bigint(), "12")).toBe(12n);
    expect(coerceValue(z.string(), "12")).toBe("12");
    expect(coerceValue(z.enum(["1", "2"]), "1")).toBe("1");
    expect(coerceValue(z.stringbool(), "yes")).toBe("yes");
  });

  test("coerceInput converts known fields and keeps unknown ones; queryOf keeps own keys only", () => {
    const schema = z.object({ limit: z.number().optional(), on: z.boolean().optional() });
    expect(coerceInput(schema, { limit: "3", on: "true", other: "x" })).toEqual({ limit: 3, on: true, other: "x" });
    const query = queryOf("http://x/?a=1&a=2&__proto__=p&toString=t");
    expect(query).toEqual({ a: ["1", "2"], ["__proto__"]: "p", toString: "t" } as never);
    expect(Object.getPrototypeOf(query)).toBe(Object.prototype);
  });
});
