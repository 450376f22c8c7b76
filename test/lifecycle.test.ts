/** `bun start` as a real process: zero-config start, refusals, graceful shutdown, the token command. */

import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { jwtVerify, SignJWT } from "jose";
import { io } from "socket.io-client";
import { cleanEnv, MAIN, ROOT, removeTempDirs, startProcess, tempDir } from "./helpers/process";
import { TEST_JWT_SECRET } from "./helpers/server";

afterAll(removeTempDirs);
const start = (cwd: string, env: Record<string, string> = {}, entry = MAIN) => startProcess(cwd, env, entry);

describe("bun start", () => {
  test("with no configuration: SQLite under ./data, dev secrets generated, printed and kept", async () => {
    const cwd = tempDir();
    const server = await start(cwd);
    try {
      const health = (await (await fetch(`${server.url}/health`)).json()) as { status: string; instanceId: string };
      expect(health.status).toBe("ok");
      expect(existsSync(join(cwd, "data/switchboard.db"))).toBe(true);
      const secrets = (await Bun.file(join(cwd, "data/dev-secrets.json")).json()) as { API_TOKEN: string };
      const res = await fetch(`${server.url}/jwt/create`, {
        method: "POST",
        headers: { authorization: `Bearer ${secrets.API_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ userId: "zero-config" }),
      });
      expect(res.status).toBe(200);

      server.proc.kill("SIGTERM");
      expect(await server.proc.exited).toBe(0);
      const stderr = await server.stderr();
      expect(stderr).toContain(`API_TOKEN=${secrets.API_TOKEN}`);
      expect(stderr).toContain("dev-secrets.json");
      // The JSON logs never carry the secret.
      expect(await server.stdout()).not.toContain(secrets.API_TOKEN);

      // Migrations applied, WAL on, identity kept across a restart.
      const db = new Database(join(cwd, "data/switchboard.db"), { readonly: true });
      expect((db.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe("wal");
      expect((db.query("SELECT count(*) AS n FROM __drizzle_migrations").get() as { n: number }).n).toBeGreaterThan(0);
      db.close();
      const again = await start(cwd);
      const health2 = (await (await fetch(`${again.url}/health`)).json()) as { instanceId: string };
      expect(health2.instanceId).toBe(health.instanceId);
      again.proc.kill("SIGINT");
      expect(await again.proc.exited).toBe(0);
    } finally {
      server.proc.kill("SIGKILL");
    }
  });

  test("SIGTERM: sockets are disconnected by the server and the process exits 0", async () => {
    const cwd = tempDir();
    const server = await start(cwd, { JWT_SECRET: TEST_JWT_SECRET, API_TOKEN: "x".repeat(20) });
    try {
      const jwt = await new SignJWT({})
        .setProtectedHeader({ alg: "HS256" })
        .setSubject("leaving")
        .setExpirationTime("1h")
        .sign(new TextEncoder().encode(TEST_JWT_SECRET));
      const socket = io(server.url, { auth: { token: jwt }, transports: ["websocket"], reconnection: false });
      await new Promise((resolve) => socket.once("connected", resolve));
      const reason = new Promise<string>((resolve) => socket.once("disconnect", resolve));
      const started = Date.now();
      server.proc.kill("SIGTERM");
      expect(await reason).toBe("io server disconnect");
      expect(await server.proc.exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(10000);
      const logs = await server.stdout();
      expect(logs).toContain('"event":"shutdown"');
      expect(logs).toContain('"event":"stopped"');
      socket.close();
    } finally {
      server.proc.kill("SIGKILL");
    }
  });

  test("SIGTERM: a handler in flight still acks, new events are refused, then sockets are disconnected", async () => {
    const server = await start(
      tempDir(),
      { JWT_SECRET: TEST_JWT_SECRET, API_TOKEN: "x".repeat(20), SLOW_PING_MS: "1500" },
      join(ROOT, "test/fixtures/slow-ping.ts"),
    );
    try {
      const jwt = await new SignJWT({})
        .setProtectedHeader({ alg: "HS256" })
        .setSubject("in-flight")
        .setExpirationTime("1h")
        .sign(new TextEncoder().encode(TEST_JWT_SECRET));
      const socket = io(server.url, { auth: { token: jwt }, transports: ["websocket"], reconnection: false });
      await new Promise((resolve) => socket.once("connected", resolve));
      const events: string[] = [];
      socket.on("disconnect", (reason) => events.push(`disconnect:${reason}`));
      const slow = socket
        .timeout(10000)
        .emitWithAck("ping", { id: "slow" })
        .then((ack) => {
          events.push("slow-ack");
          return ack;
        });
      await Bun.sleep(300); // the handler is sleeping now
      server.proc.kill("SIGTERM");
      await Bun.sleep(300);
      const late = await socket.timeout(5000).emitWithAck("ping", { id: "late" });
      expect(late).toEqual({
        success: false,
        error: { code: "SERVICE_UNAVAILABLE", message: "Server is shutting down: retry" },
      });
      const ack = await slow;
      expect(ack.success).toBe(true);
      expect(ack.success && ack.data.id).toBe("slow");
      expect(await server.proc.exited).toBe(0);
      await Bun.sleep(50);
      // The ack arrived before the server disconnected the socket.
      expect(events).toEqual(["slow-ack", "disconnect:io server disconnect"]);
      socket.close();
    } finally {
      server.proc.kill("SIGKILL");
    }
  });

  test("NODE_ENV=production without secrets refuses to start, naming them", async () => {
    const proc = Bun.spawn(["bun", MAIN], {
      cwd: tempDir(),
      env: cleanEnv({ NODE_ENV: "production" }),
      stderr: "pipe",
    });
    expect(await proc.exited).toBe(1);
    const stderr = await new Response(proc.stderr).text();
    expect(stderr).toContain("API_TOKEN: is required when NODE_ENV=production");
    expect(stderr).toContain("JWT_SECRET: is required when NODE_ENV=production");
  });

  test("a bad value stops start-up with the variable and the rule", async () => {
    const proc = Bun.spawn(["bun", MAIN], { cwd: tempDir(), env: cleanEnv({ PORT: "-1" }), stderr: "pipe" });
    expect(await proc.exited).toBe(1);
    expect(await new Response(proc.stderr).text()).toContain("PORT: must be at least 0");
  });
});

describe("bun run token", () => {
  test("prints a JWT signed with the configured secret", async () => {
    const proc = Bun.spawn(["bun", join(ROOT, "scripts/token.ts"), "user42", "--admin", "--expires", "2h"], {
      cwd: tempDir(),
      env: cleanEnv({ JWT_SECRET: TEST_JWT_SECRET }),
      stdout: "pipe",
    });
    expect(await proc.exited).toBe(0);
    const token = (await new Response(proc.stdout).text()).trim();
    const { payload } = await jwtVerify(token, new TextEncoder().encode(TEST_JWT_SECRET));
    expect(payload.sub).toBe("user42");
    expect(payload.role).toBe("admin");
    expect((payload.exp as number) - (payload.iat as number)).toBe(7200);
  });

  test("without a user id it explains its usage", async () => {
    const proc = Bun.spawn(["bun", join(ROOT, "scripts/token.ts")], {
      cwd: tempDir(),
      env: cleanEnv({}),
      stderr: "pipe",
    });
    expect(await proc.exited).toBe(1);
    expect(await new Response(proc.stderr).text()).toContain("usage: bun run token <userId>");
  });
});
