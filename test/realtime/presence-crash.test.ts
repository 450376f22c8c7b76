/**
 * One node on SQLite killed with SIGKILL (it tells nobody its users left), then started again on the
 * same database file: the start resolves what the crash left, before anyone connects. A user that was
 * online is offline with a lastSeen; an invisible one keeps the lastSeen of when it went invisible (its
 * invisible session is not recorded); friends connecting afterwards see them offline. A graceful stop
 * then leaves no row for the next start.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { SignJWT } from "jose";
import { connect, type SwitchboardSocket } from "switchboard/client";
import type { Ack, Connected, FriendsPresence } from "../../generated/events";
import { removeTempDirs, startProcess, tempDir } from "../helpers/process";
import { once, readDatabase, TEST_API_TOKEN, TEST_JWT_SECRET } from "../helpers/server";
import { until } from "../helpers/sink";

afterAll(removeTempDirs);

const token = (userId: string) =>
  new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(TEST_JWT_SECRET));

test("SIGKILL, then a restart on the same SQLite file: the users it left online are offline, with a lastSeen; a graceful stop leaves nothing behind", async () => {
  const dir = tempDir();
  const databasePath = join(dir, "switchboard.db");
  const env = {
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    DATABASE_PATH: databasePath,
    API_TOKEN: TEST_API_TOKEN,
    JWT_SECRET: TEST_JWT_SECRET,
  };
  const sockets: SwitchboardSocket[] = [];
  const open = async (url: string, userId: string) => {
    const s = connect(url, { token: await token(userId), transports: ["websocket"], reconnection: false });
    sockets.push(s);
    await once<Connected>(s, "connected");
    return s;
  };
  const api = (url: string, path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${TEST_API_TOKEN}` } });
  const query = (text: string) => readDatabase({ databaseUrl: undefined, databasePath }, text, []);
  const stored = (userId: string) =>
    readDatabase<{ status: string; lastSeen: string | null }>(
      { databaseUrl: undefined, databasePath },
      'SELECT status, last_seen AS "lastSeen" FROM user_presence WHERE user_id = ?',
      [userId],
    );

  const first = await startProcess(dir, env);
  let second: Awaited<ReturnType<typeof startProcess>> | undefined;
  try {
    for (const friend of ["sc-ann", "sc-ivy"]) {
      expect((await api(first.url, `/api/users/${friend}/friends/sc-bob`, { method: "PUT" })).status).toBe(200);
    }
    await open(first.url, "sc-ann");
    await open(first.url, "sc-ann"); // a second device
    const ivy = await open(first.url, "sc-ivy");
    const chose = (await ivy.emitWithAck("user:status", "offline")) as Ack<unknown>; // invisible
    expect(chose.success).toBe(true);
    const wentInvisible = (await stored("sc-ivy"))[0] as { status: string; lastSeen: string | null };
    expect(wentInvisible.lastSeen).toBeString();
    // The rows of who is on this node are written after the connect, without holding it up.
    await until(
      async () => (await query("SELECT user_id FROM node_users")).length === 2,
      3000,
      "the node to record its users",
    );

    const dropped = Promise.all(sockets.map((s) => once<string>(s, "disconnect")));
    first.proc.kill("SIGKILL");
    await first.proc.exited;
    await dropped;
    // The crash told nobody: nothing stored about ann leaving.
    expect(await stored("sc-ann")).toEqual([]);
    expect(await stored("sc-ivy")).toEqual([wentInvisible]);

    const restartedAt = Date.now();
    second = await startProcess(dir, env);
    const [ann] = await stored("sc-ann");
    expect(ann?.status).toBe("online");
    expect(Date.parse(ann?.lastSeen as string)).toBeGreaterThanOrEqual(restartedAt);
    // Invisible when the node died: friends last saw it when it went invisible.
    expect(await stored("sc-ivy")).toEqual([wentInvisible]);
    expect(await query("SELECT node_id FROM node_users")).toEqual([]);

    // A friend connecting now sees ann offline, through presence and the admin API.
    const bob = await open(second.url, "sc-bob");
    const friends = (await bob.emitWithAck("presence:friends", {})) as Ack<FriendsPresence>;
    expect(friends).toEqual({ success: true, data: [] });
    expect(await (await api(second.url, "/websocket/users/sc-ann/status")).json()).toEqual({
      userId: "sc-ann",
      online: false,
      status: "offline",
      devices: 0,
      lastSeen: ann?.lastSeen,
    });

    // A graceful stop (SIGTERM) leaves nothing for the next start to resolve: bob's row and the node's are gone.
    await until(
      async () => (await query("SELECT user_id FROM node_users")).length === 1,
      3000,
      "bob's row to be written",
    );
    second.proc.kill("SIGTERM");
    expect(await second.proc.exited).toBe(0);
    expect(await query("SELECT user_id FROM node_users")).toEqual([]);
    expect(await query("SELECT node_id FROM gateway_nodes")).toEqual([]);
    const [bobStored] = await stored("sc-bob");
    expect(bobStored?.lastSeen).toBeString();
  } finally {
    for (const s of sockets) s.close();
    first.proc.kill("SIGKILL");
    second?.proc.kill("SIGTERM");
    await second?.proc.exited;
  }
}, 30_000);
