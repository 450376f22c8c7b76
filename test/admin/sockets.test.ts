/** GET /api/socket/sockets/stats (seed 003) over REST and tRPC: counts, pages, cursors, refusals. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { once, startTestServer, type TestServer } from "../helpers/server";

interface Page {
  totalConnections: number;
  connections: { socketId: string; channel: string | null; userId: string; connectedAt: string }[];
  nextCursor: string | null;
}

let server: TestServer;
const ids: string[] = [];
beforeAll(async () => {
  server = await startTestServer();
  for (const user of ["ann", "ann", "ben"]) {
    const socket = server.socket({ token: await server.token(user) });
    await once(socket, "connected");
    ids.push(socket.id as string);
    await Bun.sleep(5); // distinct connectedAt, so the order is the connection order
  }
});
afterAll(() => server.close());

test("REST: every open connection, oldest first, one page at a time", async () => {
  const first = await server.api("/api/socket/sockets/stats?limit=2");
  expect(first.status).toBe(200);
  const page1 = (await first.json()) as Page;
  expect(page1.totalConnections).toBe(3);
  expect(page1.connections.map((c) => c.socketId)).toEqual(ids.slice(0, 2));
  expect(page1.connections[0]).toMatchObject({ userId: "ann", channel: null });
  expect(Number.isNaN(Date.parse(page1.connections[0]?.connectedAt ?? ""))).toBe(false);
  expect(page1.nextCursor).toBeString();

  const page2 = (await (
    await server.api(`/api/socket/sockets/stats?limit=2&cursor=${page1.nextCursor}`)
  ).json()) as Page;
  expect(page2.connections.map((c) => c.socketId)).toEqual(ids.slice(2));
  expect(page2.connections[0]?.userId).toBe("ben");
  expect(page2.nextCursor).toBeNull();
});

test("tRPC: the same operation is a query", async () => {
  const page = await server.admin().sockets.stats.query({ limit: 10 });
  expect(page.totalConnections).toBe(3);
  expect(page.connections.map((c) => c.socketId)).toEqual(ids);
  expect(page.nextCursor).toBeNull();
});

test("a closed connection is gone from the stats", async () => {
  const socket = server.socket({ token: await server.token("brief") });
  await once(socket, "connected");
  expect(((await (await server.api("/api/socket/sockets/stats")).json()) as Page).totalConnections).toBe(4);
  socket.close();
  await Bun.sleep(100);
  expect(((await (await server.api("/api/socket/sockets/stats")).json()) as Page).totalConnections).toBe(3);
});

test("bad input: 400 naming the field; no token: 401", async () => {
  for (const query of ["limit=abc", "limit=0", "limit=1001", "cursor=bm90LWEtY3Vyc29y"]) {
    const res = await server.api(`/api/socket/sockets/stats?${query}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; details: { issues: { path: string }[] } } };
    expect(body.error.code).toBe("BAD_REQUEST");
    expect(body.error.details.issues[0]?.path).toBe(query.split("=")[0] as string);
  }
  expect((await server.api("/api/socket/sockets/stats", { auth: false })).status).toBe(401);
});
