/**
 * Who may open a Socket.IO connection and what an unauthenticated one may cost: origins,
 * transports, connection caps, new sessions per IP, the authentication timeout, the pre-auth
 * message limits, per-user caps and slow readers. Over the wire, with raw Engine.IO where
 * socket.io-client would behave too well.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { io } from "socket.io-client";
import type { Ack, Connected, Pong } from "../../generated/events";
import { poll, pollingHandshake, pollingSend, rawWebSocket } from "../helpers/engine";
import { once, startTestServer, type TestServer } from "../helpers/server";

type Refusal = Error & { data?: { code: string; message: string } };

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
const start = async (env: Record<string, string>) => {
  server = await startTestServer(env);
  return server;
};
/** These tests send floods of events on purpose: the per-socket rate limit is not what they test. */
const UNLIMITED_EVENTS = { SOCKET_RATE_LIMIT: "1000000", SOCKET_ABUSE_LIMIT: "1000000" };
const errorOf = (text: string) => (JSON.parse(text) as { error: { code: string; message: string } }).error;

describe("origins and transports", () => {
  test("ALLOWED_ORIGINS applies to Socket.IO: a foreign origin is refused (polling and websocket)", async () => {
    const s = await start({ ALLOWED_ORIGINS: "https://app.example" });
    const foreign = await pollingHandshake(s.url, { origin: "https://evil.example" });
    expect(foreign.res.status).toBe(403);
    expect(errorOf(foreign.text)).toEqual({ code: "FORBIDDEN", message: "Origin not allowed" });
    const ws = rawWebSocket(s.url, { origin: "https://evil.example" });
    expect(await ws.opened).toBe(false);

    const allowed = await pollingHandshake(s.url, { origin: "https://app.example" });
    expect(allowed.res.status).toBe(200);
    expect(allowed.res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    // Clients without an Origin (servers, mobile apps) are not browsers: they connect.
    const socket = s.socket({ token: await s.token("no-origin") });
    expect((await once<Connected>(socket, "connected")).userId).toBe("no-origin");
  });

  test("SOCKET_TRANSPORTS=websocket turns long-polling off", async () => {
    const s = await start({ SOCKET_TRANSPORTS: "websocket" });
    const polling = await pollingHandshake(s.url);
    expect(polling.res.status).toBe(400);
    expect(errorOf(polling.text).message).toContain("Transport not enabled");
    const socket = s.socket({ token: await s.token("ws-only") });
    expect((await once<Connected>(socket, "connected")).userId).toBe("ws-only");
  });
});

describe("connection caps", () => {
  test("MAX_CONNECTIONS_PER_IP: the excess gets 429 RATE_LIMITED; a closed one frees its place", async () => {
    const s = await start({ MAX_CONNECTIONS_PER_IP: "3" });
    const sessions = await Promise.all([1, 2, 3, 4, 5].map(() => pollingHandshake(s.url)));
    expect(sessions.map((x) => x.res.status).sort()).toEqual([200, 200, 200, 429, 429]);
    const refused = sessions.find((x) => x.res.status === 429) as { text: string };
    expect(errorOf(refused.text)).toEqual({ code: "RATE_LIMITED", message: "Too many connections from this address" });
    // An authenticated client from the same address is refused too, with a connect_error.
    const socket = io(s.url, { auth: { token: await s.token("late") }, transports: ["polling"], reconnection: false });
    await once(socket, "connect_error");
    socket.close();
    // Closing a session frees its place.
    const open = sessions.find((x) => x.sid) as { sid: string };
    await pollingSend(s.url, open.sid, ["1"]); // engine.io close packet
    await Bun.sleep(50);
    expect((await pollingHandshake(s.url)).res.status).toBe(200);
  });

  test("MAX_CONNECTIONS: over the total, 503 SERVICE_UNAVAILABLE", async () => {
    const s = await start({ MAX_CONNECTIONS: "2" });
    expect((await pollingHandshake(s.url)).res.status).toBe(200);
    expect((await pollingHandshake(s.url)).res.status).toBe(200);
    const third = await pollingHandshake(s.url);
    expect(third.res.status).toBe(503);
    expect(errorOf(third.text).code).toBe("SERVICE_UNAVAILABLE");
    expect(((await (await s.api("/health")).json()) as { status: string }).status).toBe("ok");
  });

  test("SOCKET_HANDSHAKES_PER_IP: new sessions per window are limited even when each is closed", async () => {
    const s = await start({ SOCKET_HANDSHAKES_PER_IP: "3" });
    for (let i = 0; i < 3; i++) {
      const { res, sid } = await pollingHandshake(s.url);
      expect(res.status).toBe(200);
      await pollingSend(s.url, sid as string, ["1"]);
    }
    await Bun.sleep(50);
    const refused = await pollingHandshake(s.url);
    expect(refused.res.status).toBe(429);
    expect(errorOf(refused.text).message).toBe("Too many new connections: retry later");
  });

  test("MAX_SOCKETS_PER_USER: the newest connection is refused, the open ones stay", async () => {
    const s = await start({ MAX_SOCKETS_PER_USER: "2" });
    const token = await s.token("busy");
    const first = s.socket({ token });
    const second = s.socket({ token });
    await Promise.all([once(first, "connected"), once(second, "connected")]);
    const err = await once<Refusal>(s.socket({ token }), "connect_error");
    expect(err.data).toEqual({ code: "RATE_LIMITED", message: "too many open connections for this user (at most 2)" });
    expect(first.connected && second.connected).toBe(true);
    // Another user is not affected; a closed device frees its place.
    expect((await once<Connected>(s.socket({ token: await s.token("other") }), "connected")).userId).toBe("other");
    first.close();
    await Bun.sleep(100);
    expect((await once<Connected>(s.socket({ token }), "connected")).userId).toBe("busy");
  });

  test("a burst of connects for one user cannot overshoot MAX_SOCKETS_PER_USER", async () => {
    const s = await start({ MAX_SOCKETS_PER_USER: "3" });
    const token = await s.token("burst");
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () => s.socket({ token })).map(
        (socket) =>
          new Promise<string>((resolve) => {
            socket.once("connected", () => resolve("ok"));
            socket.once("connect_error", () => resolve("refused"));
          }),
      ),
    );
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(3);
  });
});

describe("unauthenticated connections", () => {
  test("closed after SOCKET_AUTH_TIMEOUT_MS without an authenticated connect", async () => {
    const s = await start({ SOCKET_AUTH_TIMEOUT_MS: "300" });
    const idle = await pollingHandshake(s.url);
    const ws = rawWebSocket(s.url);
    expect(await ws.opened).toBe(true);
    const authed = s.socket({ token: await s.token("patient") });
    await once(authed, "connected");
    await Bun.sleep(700);
    expect((await poll(s.url, idle.sid as string)).status).toBe(400); // session gone
    expect(ws.ws.readyState).toBe(WebSocket.CLOSED);
    expect(authed.connected).toBe(true);
  });

  test("a refused handshake does not keep the connection past the timeout either", async () => {
    const s = await start({ SOCKET_AUTH_TIMEOUT_MS: "300" });
    const { sid } = await pollingHandshake(s.url);
    await pollingSend(s.url, sid as string, ['40{"token":"not-a-jwt"}']);
    expect(await (await poll(s.url, sid as string)).text()).toContain("malformed token"); // the CONNECT_ERROR
    await Bun.sleep(700);
    expect((await poll(s.url, sid as string)).status).toBe(400);
  });

  test("binary data before authenticating closes the connection (nothing is buffered)", async () => {
    const s = await start({});
    const ws = rawWebSocket(s.url);
    expect(await ws.opened).toBe(true);
    // A binary event announcing 9 attachments, then the first 900 kB attachment.
    ws.ws.send('459-["upload",{"_placeholder":true,"num":0}]');
    ws.ws.send(new Uint8Array(900_000));
    expect(await ws.closed).toBeGreaterThan(0);
    expect(s.logs().some((l) => l.reason === "unauthenticated traffic over its limit")).toBe(true);
  });

  test("a large or a ninth text message before authenticating closes the connection", async () => {
    const s = await start({});
    const big = rawWebSocket(s.url);
    expect(await big.opened).toBe(true);
    big.ws.send(`4${"x".repeat(20_000)}`);
    expect(await big.closed).toBeGreaterThan(0);

    const chatty = rawWebSocket(s.url);
    expect(await chatty.opened).toBe(true);
    for (let i = 0; i < 9; i++) chatty.ws.send('42["ping"]');
    expect(await chatty.closed).toBeGreaterThan(0);
  });
});

describe("slow readers", () => {
  test("a polling client that stops polling is disconnected once its unsent output passes the limit", async () => {
    const s = await start({ SOCKET_MAX_BUFFERED_BYTES: "4096", ...UNLIMITED_EVENTS });
    const { sid } = await pollingHandshake(s.url);
    await pollingSend(s.url, sid as string, [`40{"token":"${await s.token("slow")}"}`]);
    expect(await (await poll(s.url, sid as string)).text()).toContain('"userId":"slow"');
    // Ask for ~80 answers without ever polling for them.
    const pings = Array.from({ length: 40 }, (_, i) => `42${i}["ping",{"id":"${"p".repeat(100)}${i}"}]`);
    await pollingSend(s.url, sid as string, pings);
    await Bun.sleep(100);
    expect((await poll(s.url, sid as string)).status).toBe(400); // disconnected
    expect(s.logs().some((l) => l.event === "slow_reader")).toBe(true);
  });

  test("a fast client with the same limit is not affected", async () => {
    const s = await start({ SOCKET_MAX_BUFFERED_BYTES: "4096", ...UNLIMITED_EVENTS });
    const socket = s.socket({ token: await s.token("fast") });
    await once(socket, "connected");
    for (let i = 0; i < 40; i++) {
      const ack = (await socket.emitWithAck("ping", { id: `${"p".repeat(100)}${i}` })) as Ack<Pong>;
      expect(ack.success).toBe(true);
    }
    expect(socket.connected).toBe(true);
  });
});

/** A WebSocket client over a raw TCP socket, so it can stop reading (which no WebSocket API allows). */
async function stalledWebSocket(url: string, token: string) {
  const { hostname, port } = new URL(url);
  const tcp = connect({ host: hostname, port: Number(port) });
  await new Promise((resolve) => tcp.once("connect", resolve));
  const frame = (text: string) => {
    const payload = Buffer.from(text);
    const mask = Buffer.from([1, 2, 3, 4]);
    const len = payload.length;
    const head =
      len < 126 ? Buffer.from([0x81, 0x80 | len]) : Buffer.from([0x81, 0x80 | 126, (len >> 8) & 0xff, len & 0xff]);
    return Buffer.concat([head, mask, payload.map((b, i) => b ^ (mask[i % 4] as number))]);
  };
  tcp.write(
    `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n` +
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  let received = "";
  tcp.on("data", (d: Buffer) => {
    received += d.toString("latin1");
  });
  const until = async (text: string) => {
    for (let i = 0; i < 100 && !received.includes(text); i++) await Bun.sleep(20);
    expect(received).toContain(text);
  };
  await until('"sid"');
  tcp.write(frame(`40{"token":"${token}"}`));
  await until('"connected"');
  tcp.pause(); // stop reading: the kernel buffers fill, then the server's
  return { tcp, send: (text: string) => tcp.write(frame(text)) };
}

test("a WebSocket client that stops reading is disconnected at SOCKET_MAX_BUFFERED_BYTES, not kept with dropped acks", async () => {
  const s = await start({ SOCKET_MAX_BUFFERED_BYTES: "65536", ...UNLIMITED_EVENTS });
  const { tcp, send } = await stalledWebSocket(s.url, await s.token("stalled"));
  const stats = async () =>
    ((await (await s.api("/api/socket/sockets/stats")).json()) as { totalConnections: number }).totalConnections;
  expect(await stats()).toBe(1);
  // Each ping asks for ~400 bytes (ack + pong); ~40 MB in all, far past any socket buffer.
  const id = "p".repeat(120);
  for (let round = 0; round < 100 && (await stats()) > 0; round++) {
    for (let i = 0; i < 1000; i++) send(`42${i}["ping",{"id":"${id}"}]`);
    await Bun.sleep(20);
  }
  expect(await stats()).toBe(0);
  tcp.destroy();
}, 30000);

test("a polling body over SOCKET_MAX_PAYLOAD_BYTES is refused in the error shape, chunked or not", async () => {
  const s = await start({ SOCKET_MAX_PAYLOAD_BYTES: "2048" });
  const { sid } = await pollingHandshake(s.url);
  const url = `${s.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`;
  const declared = await fetch(url, { method: "POST", body: "4".repeat(4096) });
  expect(declared.status).toBe(413);
  expect(errorOf(await declared.text()).code).toBe("PAYLOAD_TOO_LARGE");
  expect(declared.headers.get("x-request-id")).toBeString();

  const { sid: sid2 } = await pollingHandshake(s.url);
  const chunks = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < 8; i++) controller.enqueue(new TextEncoder().encode("4".repeat(1024)));
      controller.close();
    },
  });
  const chunked = await fetch(`${s.url}/socket.io/?EIO=4&transport=polling&sid=${sid2}`, {
    method: "POST",
    body: chunks,
    duplex: "half",
  } as RequestInit);
  expect(chunked.status).toBe(413);
  expect(errorOf(await chunked.text()).code).toBe("PAYLOAD_TOO_LARGE");
});

test("an IP banned by the HTTP rate limit opens no Socket.IO session either", async () => {
  const s = await start({ RATE_LIMIT_MAX: "1", RATE_LIMIT_BAN: "1" });
  expect((await pollingHandshake(s.url)).res.status).toBe(200); // not counted by the HTTP limit
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) statuses.push((await fetch(`${s.url}/health`)).status);
  expect(statuses).toEqual([200, 429, 403, 403]);
  const refused = await pollingHandshake(s.url);
  expect(refused.res.status).toBe(403);
  expect(errorOf(refused.text).code).toBe("FORBIDDEN");
});
