/**
 * Three gateway nodes on the real Redis (redis-streams adapter) and one PostgreSQL database, clients
 * spread over the nodes: what is stored is the cluster's, whichever node wrote it.
 * - a direct message to an offline user is queued through node A and delivered once, through node B;
 * - a chat message sent on A is in the history read on C; its receipt confirmed on C reaches the
 *   sender on A once; a repeated clientMessageId on another node is the same message;
 * - friendships made through one node are read on another; a status chosen on B is stored for all;
 * - a node killed with SIGKILL: its user, back through another node, is online for its friends at once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "switchboard/client";
import type { Ack, ChatMessage, Connected, DirectMessage, MessageHistory, Receipt } from "../../generated/events";
import { type Cluster, startCluster } from "../helpers/cluster";
import { SKIP_PG } from "../helpers/postgres";
import { removeTempDirs } from "../helpers/process";
import { once } from "../helpers/server";
import { until } from "../helpers/sink";

describe.skipIf(SKIP_PG)("3 nodes on Redis sharing one PostgreSQL database", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(3, { SOCKET_RATE_LIMIT: "1000" });
  }, 30_000);
  afterAll(() => cluster?.close());

  const node = (i: number) => cluster.node(i);
  async function user(i: number, userId: string) {
    const socket = node(i).socket({ token: await node(i).token(userId) });
    await once<Connected>(socket, "connected");
    return socket;
  }
  const ok = <T>(ack: Ack<T>): T => {
    if (!ack.success) throw new Error(`refused: ${JSON.stringify(ack.error)}`);
    return ack.data;
  };

  test("a direct message queued through node A is delivered once, through node B", async () => {
    const sender = await user(0, "dm-sender");
    const result = ok(
      (await sender.emitWithAck("message:direct", {
        recipientIds: ["dm-away"],
        message: "while you were out",
      })) as Ack<{
        recipients: { queued: string[] };
      }>,
    );
    expect(result.recipients.queued).toEqual(["dm-away"]);

    const onB = node(1).socket({ token: await node(1).token("dm-away"), autoConnect: false });
    const got: DirectMessage[] = [];
    onB.on("message:direct", (m: DirectMessage) => got.push(m));
    onB.connect();
    await once(onB, "connected");
    await until(() => got.length === 1, 3000, "the queued message");
    expect(got[0]).toMatchObject({ senderId: "dm-sender", message: "while you were out" });

    // A second device, on node C: the queue is empty now, nothing comes again.
    const onC = node(2).socket({ token: await node(2).token("dm-away"), autoConnect: false });
    const again: DirectMessage[] = [];
    onC.on("message:direct", (m: DirectMessage) => again.push(m));
    onC.connect();
    await once(onC, "connected");
    await Bun.sleep(300);
    expect(again).toEqual([]);
    expect(got).toHaveLength(1);
    expect(await node(2).query("SELECT id FROM direct_queue")).toEqual([]);
  });

  test("chat across nodes: history read on C, a receipt from C reaches the sender on A once, a retry on B is the same message", async () => {
    const ann = await user(0, "chat-ann");
    const cid = await user(2, "chat-cid");
    const ben = await user(1, "chat-ann"); // ann's other device, on node B
    for (const s of [ann, cid, ben]) ok((await s.emitWithAck("room:join", { roomId: "x-chat" })) as Ack<unknown>);

    const sent = ok(
      (await ann.emitWithAck("message:send", {
        roomId: "x-chat",
        content: "hello cluster",
        clientMessageId: "x-1",
      })) as Ack<ChatMessage>,
    );
    const retried = ok(
      (await ben.emitWithAck("message:send", {
        roomId: "x-chat",
        content: "hello cluster",
        clientMessageId: "x-1",
      })) as Ack<ChatMessage>,
    );
    expect(retried).toEqual(sent);

    const page = ok((await cid.emitWithAck("message:history", { roomId: "x-chat" })) as Ack<MessageHistory>);
    expect(page.messages).toEqual([sent]);

    const delivered: Receipt[] = [];
    ann.on("message:delivered", (r: Receipt) => delivered.push(r));
    const confirms = await Promise.all(
      [1, 2, 3].map(() => cid.emitWithAck("message:delivered", { messageId: sent.id }) as Promise<Ack<Receipt>>),
    );
    expect(confirms.every((a) => a.success)).toBe(true);
    await until(() => delivered.length >= 1, 3000, "the receipt");
    await Bun.sleep(300);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ messageId: sent.id, userId: "chat-cid", roomId: "x-chat" });
  });

  test("presence across nodes: devices on A and B make one user:online; invisible on B, back on A, offline on B: each told once", async () => {
    expect((await node(2).api("/api/users/pr-x/friends/pr-f", { method: "PUT" })).status).toBe(200);
    const f = await user(2, "pr-f");
    const heard: [string, unknown][] = [];
    f.on("user:online", (p: unknown) => heard.push(["user:online", p]));
    f.on("user:offline", (p: unknown) => heard.push(["user:offline", { ...(p as object), lastSeen: "…" }]));
    const settle = async (n: number, what: string) => {
      await until(() => heard.length >= n, 3000, what);
      await Bun.sleep(300); // nothing more comes
      expect(heard).toHaveLength(n);
    };

    const onA = await user(0, "pr-x");
    await settle(1, "user:online");
    const onB = await user(1, "pr-x"); // the second device, on another node: nothing new to tell
    await Bun.sleep(300);
    expect(heard).toEqual([["user:online", { userId: "pr-x", status: "online" }]]);

    ok((await onB.emitWithAck("user:status", "offline")) as Ack<unknown>); // invisible, chosen on B
    await settle(2, "user:offline");
    ok((await onA.emitWithAck("user:status", "away")) as Ack<unknown>); // visible again, chosen on A
    await settle(3, "user:online away");
    onA.close(); // one device left (on B): still online
    await Bun.sleep(300);
    expect(heard).toHaveLength(3);
    onB.close(); // the last device goes, on B: offline, told once
    await settle(4, "user:offline");
    expect(heard).toEqual([
      ["user:online", { userId: "pr-x", status: "online" }],
      ["user:offline", { userId: "pr-x", lastSeen: "…" }],
      ["user:online", { userId: "pr-x", status: "away" }],
      ["user:offline", { userId: "pr-x", lastSeen: "…" }],
    ]);
  });

  test("friendships and a chosen status are the cluster's, whichever node wrote them", async () => {
    expect((await node(0).api("/api/users/st-kim/friends/st-lee", { method: "PUT" })).status).toBe(200);
    const listed = (await (await node(2).api("/api/users/st-lee/friends")).json()) as { friends: string[] };
    expect(listed.friends).toEqual(["st-kim"]);

    const kim = await user(1, "st-kim");
    ok((await kim.emitWithAck("user:status", "busy")) as Ack<unknown>);
    const lee = await user(2, "st-lee");
    const friends = ok((await lee.emitWithAck("presence:friends", {})) as Ack<{ userId: string; status: string }[]>);
    expect(friends).toMatchObject([{ userId: "st-kim", status: "busy" }]);
    const status = (await (await node(0).api("/websocket/users/st-kim/status")).json()) as { status: string };
    expect(status).toMatchObject({ status: "busy" });
  });

  test("a node killed with SIGKILL: its user reconnects through another node and its friends see it online right afterwards", async () => {
    const victim = await cluster.startProcessNode();
    try {
      expect((await node(0).api("/api/users/kx-kim/friends/kx-lou", { method: "PUT" })).status).toBe(200);
      const lou = await user(0, "kx-lou");
      const heard: string[] = [];
      lou.on("user:online", (e: { userId: string }) => heard.push(`online ${e.userId}`));
      lou.on("user:offline", (e: { userId: string }) => heard.push(`offline ${e.userId}`));
      const token = await node(0).token("kx-kim");
      const kim = connect(victim.url, { token, transports: ["websocket"], reconnection: false });
      await once<Connected>(kim, "connected");
      await until(async () => heard.length === 1, 5000, "lou to hear kim come online");

      const dropped = once<string>(kim, "disconnect");
      victim.proc.kill("SIGKILL");
      await victim.proc.exited;
      expect(await dropped).toBe("transport close");
      const again = await user(1, "kx-kim");
      const friends = async () =>
        ok((await lou.emitWithAck("presence:friends", {})) as Ack<{ userId: string; devices: number }[]>);
      // Right afterwards: online through node 1, one device (the dead node's socket is not counted).
      await until(
        async () => (await friends()).some((f) => f.userId === "kx-kim" && f.devices === 1),
        5000,
        "kim listed again",
      );
      expect((await friends()).map(({ userId, devices }) => ({ userId, devices }))).toEqual([
        { userId: "kx-kim", devices: 1 },
      ]);
      await Bun.sleep(300);
      // Told online once; the crash and the move announced nothing in between.
      expect(heard).toEqual(["online kx-kim"]);
      again.close();
      await until(async () => heard.length === 2, 5000, "lou to hear kim leave");
      expect(heard).toEqual(["online kx-kim", "offline kx-kim"]);
    } finally {
      victim.proc.kill("SIGKILL");
      removeTempDirs();
    }
  }, 30_000);
});
