/**
 * The subscriber registry on two nodes sharing one PostgreSQL database: a name registered, renamed
 * or removed through one node applies on the other within a couple of seconds (each node reloads its
 * in-memory index), with no restart.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { io, type Socket } from "socket.io-client";
import type { Ack } from "../../generated/events";
import { createPgDatabase, type PgDatabase, requirePostgres, SKIP_PG } from "../helpers/postgres";
import { once, startTestServer, type TestServer } from "../helpers/server";
import { until } from "../helpers/sink";

describe.skipIf(SKIP_PG)("subscribers on two nodes sharing PostgreSQL", () => {
  let db: PgDatabase;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    await requirePostgres();
    db = await createPgDatabase();
    const env = { DATABASE_URL: db.url, SOCKET_RATE_LIMIT: "1000" };
    a = await startTestServer(env);
    b = await startTestServer(env);
  });
  afterAll(async () => {
    for (const socket of sockets.values()) socket.close();
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  const sockets = new Map<TestServer, Socket>();
  /** A raw socket per node (dynamic names are not in the typed maps). */
  const socketOn = async (server: TestServer) => {
    let socket = sockets.get(server);
    if (!socket) {
      socket = io(server.url, {
        transports: ["websocket"],
        reconnection: false,
        forceNew: true,
        auth: { token: await server.token("ann") },
      });
      sockets.set(server, socket);
      await once(socket, "connected");
    }
    return socket;
  };
  const codeOn = async (server: TestServer, event: string) => {
    const ack = (await (await socketOn(server)).timeout(2000).emitWithAck(event, { data: 1 })) as Ack<unknown>;
    return ack.success ? "ok" : ack.error.code;
  };
  const api = (server: TestServer, method: string, path: string, body?: unknown) =>
    server.api(path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  test("registered, renamed and removed on A: B follows without a restart", async () => {
    expect(await codeOn(b, "clusterEvent")).toBe("NOT_FOUND");
    const created = (await (
      await api(a, "POST", "/subscribers", { eventListener: "clusterEvent", replicable: false })
    ).json()) as { id: string };
    expect(await codeOn(a, "clusterEvent")).toBe("ok"); // at once on the node that wrote it
    await until(async () => (await codeOn(b, "clusterEvent")) === "ok", 5000, "B to see the new name");

    expect((await api(a, "PUT", `/subscribers/${created.id}`, { eventListener: "clusterRenamed" })).status).toBe(200);
    await until(
      async () => (await codeOn(b, "clusterRenamed")) === "ok" && (await codeOn(b, "clusterEvent")) === "NOT_FOUND",
      5000,
      "B to see the rename",
    );

    expect((await api(a, "DELETE", `/subscribers/${created.id}`)).status).toBe(200);
    await until(async () => (await codeOn(b, "clusterRenamed")) === "NOT_FOUND", 5000, "B to see the removal");
  }, 20000);
});
