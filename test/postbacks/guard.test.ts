/**
 * The SSRF guard (private targets refused at enqueue and before each attempt unless allowed) and
 * the retention sweep, on a server that does not allow private targets (NODE_ENV=test).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server";
import { type Sink, startSink, until } from "../helpers/sink";

type Json = Record<string, unknown>;
let server: TestServer;
let sink: Sink;

beforeAll(async () => {
  sink = startSink();
  server = await startTestServer({
    POSTBACK_BACKOFF_MS: "20",
    POSTBACK_ALLOWED_HOSTS: "localhost",
    POSTBACK_RETENTION: "1s",
  });
});
afterAll(async () => {
  await server.close();
  sink.stop();
});

const enqueue = async (postbackUrl: string) => {
  const res = await server.api("/api/queue/postback", {
    method: "POST",
    body: JSON.stringify({ postbackUrl, payload: { x: 1 } }),
  });
  return { status: res.status, body: (await res.json()) as Json };
};

test.each([
  ["loopback", "http://127.0.0.1:9/x", "loopback"],
  ["loopback, another form", "http://127.1:9/x", "loopback"],
  ["IPv6 loopback", "http://[::1]:9/x", "loopback"],
  ["IPv4-mapped IPv6 loopback", "http://[::ffff:127.0.0.1]:9/x", "loopback"],
  ["private", "http://10.1.2.3/x", "private"],
  ["private 192.168", "http://192.168.0.10/x", "private"],
  ["link-local / AWS metadata", "http://169.254.169.254/latest/meta-data", "metadata"],
  ["AWS IPv6 metadata", "http://[fd00:ec2::254]/", "metadata"],
  ["unique local", "http://[fc00::1]/", "uniqueLocal"],
  ["CGNAT", "http://100.64.0.1/", "carrierGradeNat"],
  ["unspecified", "http://0.0.0.0:9/", "unspecified"],
  ["credentials in the URL", "http://user:secret@example.com/", "credentials"],
])("%s is refused with 400 at enqueue", async (_name, url, why) => {
  const { status, body } = await enqueue(url);
  expect(status).toBe(400);
  const error = body.error as { code: string; message: string };
  expect(error.code).toBe("BAD_REQUEST");
  expect(error.message).toContain(why);
});

test("a host name that resolves to 127.0.0.1 is refused (unless it is in POSTBACK_ALLOWED_HOSTS)", async () => {
  // `localhost` is exempt on the shared server: this one has no exemptions.
  const strict = await startTestServer();
  try {
    const res = await strict.api("/api/queue/postback", {
      method: "POST",
      body: JSON.stringify({ postbackUrl: `http://localhost:${sink.port}/x`, payload: {} }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /localhost resolves to .*loopback/,
    );
  } finally {
    await strict.close();
  }
});

test("a host in POSTBACK_ALLOWED_HOSTS is delivered; retention then removes the finished job", async () => {
  const { status, body } = await enqueue(`http://localhost:${sink.port}/allowed`);
  expect(status).toBe(200);
  const id = body.queueId as string;
  await until(
    async () => {
      const job = (await (await server.api(`/api/queue/postback/${id}`)).json()) as Json;
      return job.status === "completed";
    },
    3000,
    "delivery",
  );
  expect(sink.to("/allowed")).toHaveLength(1);
  // POSTBACK_RETENTION=1s: gone within about a second and a sweep.
  await until(async () => (await server.api(`/api/queue/postback/${id}`)).status === 404, 4000, "retention");
  const stats = (await (await server.api("/api/queue/stats")).json()) as { total: number };
  expect(stats.total).toBe(0);
});

test("the target is checked again before each attempt: a forwarded event to a loopback URL fails unsent", async () => {
  // Subscribers' postbackUrl is not checked against DNS when it is stored; the attempt refuses it.
  const reg = await server.api("/subscribers", {
    method: "POST",
    body: JSON.stringify({ eventListener: "leak", postbackUrl: `http://127.0.0.1:${sink.port}/leak` }),
  });
  expect(reg.status).toBe(200);
  const { io } = await import("socket.io-client");
  const socket = io(server.url, {
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    auth: { token: await server.token("eve") },
  });
  try {
    await until(() => socket.connected, 3000, "the socket");
    await socket.timeout(3000).emitWithAck("leak", { data: 1 });
    const failed = await until(
      async () => {
        const list = (await (await server.api("/api/queue/postback?status=failed")).json()) as {
          items: { lastError: string }[];
        };
        return list.items[0];
      },
      3000,
      "the refused job",
    );
    expect(failed.lastError).toContain("Refused target");
    expect(failed.lastError).toContain("loopback");
    expect(sink.to("/leak")).toHaveLength(0);
  } finally {
    socket.close();
  }
});
