/**
 * A flood of unauthenticated connections against the gateway as a real process under `ulimit -n
 * 256`: it stays up, answers /health, refuses the excess cleanly and closes what never authenticates.
 * Bounded: at most 400 connection attempts per scenario, a few seconds each.
 */
import { afterAll, expect, test } from "bun:test";
import { MAIN, removeTempDirs, startProcess, tempDir } from "../helpers/process";
import { TEST_API_TOKEN, TEST_JWT_SECRET } from "../helpers/server";

afterAll(removeTempDirs);

const FLOOD = 400;

async function underUlimit(env: Record<string, string>) {
  return startProcess(
    tempDir(),
    { JWT_SECRET: TEST_JWT_SECRET, API_TOKEN: TEST_API_TOKEN, HOST: "127.0.0.1", ...env },
    "",
    ["bash", "-c", `ulimit -n 256 && exec bun ${MAIN}`],
  );
}

/** Opens `n` raw Engine.IO WebSockets at once; resolves with how many opened and the sockets. */
async function flood(url: string, n: number) {
  const sockets: WebSocket[] = [];
  const outcomes = await Promise.all(
    Array.from({ length: n }, () => {
      const ws = new WebSocket(`${url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
      sockets.push(ws);
      return new Promise<"open" | "refused">((resolve) => {
        const timer = setTimeout(() => resolve("refused"), 5000);
        ws.addEventListener("message", () => {
          clearTimeout(timer);
          resolve("open");
        });
        ws.addEventListener("error", () => resolve("refused"));
        ws.addEventListener("close", () => resolve("refused"));
      });
    }),
  );
  return { opened: outcomes.filter((o) => o === "open").length, sockets };
}

const health = async (url: string) => {
  try {
    return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(3000) })).status;
  } catch {
    return 0;
  }
};

test("under the caps: the excess is refused, /health answers during the flood, idle ones are closed", async () => {
  const server = await underUlimit({
    MAX_CONNECTIONS: "150",
    MAX_CONNECTIONS_PER_IP: "1000",
    SOCKET_HANDSHAKES_PER_IP: "100000",
    SOCKET_AUTH_TIMEOUT_MS: "1500",
  });
  try {
    const { opened, sockets } = await flood(server.url, FLOOD);
    expect(opened).toBeGreaterThan(100);
    expect(opened).toBeLessThanOrEqual(150);
    expect(await health(server.url)).toBe(200);
    await Bun.sleep(2500);
    expect(sockets.every((ws) => ws.readyState === WebSocket.CLOSED)).toBe(true);
    expect(server.proc.exitCode).toBeNull();
    expect(await health(server.url)).toBe(200);
    expect(server.logsSoFar()).toContain("Too many connections: retry later");
  } finally {
    server.proc.kill("SIGKILL");
  }
}, 30000);

test("past the file-descriptor limit (caps set too high): no crash, and it recovers once idle ones are closed", async () => {
  const server = await underUlimit({
    MAX_CONNECTIONS: "5000",
    MAX_CONNECTIONS_PER_IP: "5000",
    SOCKET_HANDSHAKES_PER_IP: "100000",
    SOCKET_AUTH_TIMEOUT_MS: "1500",
  });
  try {
    const { sockets } = await flood(server.url, FLOOD);
    await Bun.sleep(1500); // liveness samples run while descriptors are exhausted
    for (const ws of sockets) ws.close();
    await Bun.sleep(2500);
    expect(server.proc.exitCode).toBeNull();
    expect(await health(server.url)).toBe(200);
    const alive = await fetch(`${server.url}/alive`);
    expect(alive.status).toBe(200);
  } finally {
    server.proc.kill("SIGKILL");
  }
}, 30000);
