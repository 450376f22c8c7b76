/**
 * A minimal Socket.IO server on bun-engine + Bun.serve built with the project's adapter module
 * (connection state recovery on, as in the gateway), so adapter tests can call io.to(...).emit
 * directly and watch real socket.io-clients on websocket, polling and upgraded connections. With a
 * Redis link it is one node of a cluster.
 */
import { Server as Engine } from "@socket.io/bun-engine";
import { type Namespace, Server, type Socket as ServerSocket } from "socket.io";
import { type Socket as ClientSocket, io as connect, Manager } from "socket.io-client";
import type { RedisLink } from "../../src/cluster/redis";
import { createLogger } from "../../src/observability/logger";
import { type ClusterAdapters, socketAdapter } from "../../src/realtime/adapter";

export type Kind = "memory" | "bun" | "redis-streams" | "redis";
export type Transport = "websocket" | "polling" | "upgraded";
export const NAMESPACES = ["/", "/a", "/b"];
const SETTLE_MS = 100;

export async function until(ok: () => boolean, what: string, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}
export const settle = () => Bun.sleep(SETTLE_MS);
export const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

export interface Member {
  client: ClientSocket;
  server: ServerSocket;
  /** The first argument of every `event` this client got, in order. */
  got(event?: string): unknown[];
}

/** A minimal Socket.IO server on bun-engine + Bun.serve with the project's adapter module. */
export async function harness(
  kind: Kind,
  {
    recovery = true,
    upgradeDelayMs = 0,
    cluster,
  }: { recovery?: boolean; upgradeDelayMs?: number; cluster?: { redis: RedisLink; adapters: ClusterAdapters } } = {},
) {
  const engine = new Engine({ path: "/socket.io/" });
  const io = new Server({
    adapter: socketAdapter(kind, { engine, recovery, log: createLogger("silent"), cluster }),
    ...(recovery ? { connectionStateRecovery: { maxDisconnectionDuration: 60_000, skipMiddlewares: false } } : {}),
  });
  io.bind(engine);
  // An asynchronous middleware, like the gateway's authentication.
  for (const path of NAMESPACES) io.of(path).use((_socket, next) => void setTimeout(next, 1));
  const handler = engine.handler();
  const server = Bun.serve({
    ...handler,
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request, srv) {
      // Optionally hold back polling-to-websocket upgrades, so a stream is flowing when one happens.
      const url = new URL(request.url);
      if (upgradeDelayMs && url.searchParams.has("sid") && request.headers.has("upgrade"))
        await Bun.sleep(upgradeDelayMs);
      return engine.handleRequest(request, srv);
    },
  });
  const url = `http://127.0.0.1:${server.port}`;
  const clients: ClientSocket[] = [];

  const attach = async (client: ClientSocket, nsp: Namespace, transport: Transport | "upgrading"): Promise<Member> => {
    const events: [string, unknown][] = [];
    client.onAny((event: string, first: unknown) => events.push([event, first]));
    await new Promise<void>((resolve, reject) => {
      client.once("connect", () => resolve());
      client.once("connect_error", reject);
    });
    const server = nsp.sockets.get(client.id as string) as ServerSocket;
    if (transport === "upgraded") await until(() => server.conn.transport.name === "websocket", "the upgrade");
    return { client, server, got: (event = "m") => events.filter(([e]) => e === event).map(([, first]) => first) };
  };

  return {
    io,
    server,
    url,
    async member(transport: Transport | "upgrading", nsp = "/", opts: Record<string, unknown> = {}) {
      const transports = transport === "websocket" ? ["websocket"] : transport === "polling" ? ["polling"] : undefined;
      const client = connect(`${url}${nsp}`, {
        forceNew: true,
        reconnection: false,
        ...(transports && { transports }),
        ...opts,
      });
      clients.push(client);
      return attach(client, io.of(nsp), transport);
    },
    /** Two namespaces on one engine connection (one Manager). */
    async multiplexed(nsps: string[]) {
      const manager = new Manager(url, { transports: ["websocket"], reconnection: false });
      const out: Member[] = [];
      for (const nsp of nsps) {
        const client = manager.socket(nsp); // connects by itself
        clients.push(client);
        out.push(await attach(client, io.of(nsp), "websocket"));
      }
      return out;
    },
    /** Native and stock socket counts of a namespace's adapter (bun only). */
    stats(nsp = "/") {
      const adapter = io.of(nsp).adapter as unknown as { fanoutStats?: () => { native: number; stock: number } };
      return adapter.fanoutStats?.();
    },
    subscribers: (topic: string) => server.subscriberCount(topic),
    async close() {
      for (const c of clients) c.disconnect();
      await new Promise<void>((resolve) => io.close(() => resolve()));
      server.stop(true);
    },
  };
}
export type Harness = Awaited<ReturnType<typeof harness>>;
