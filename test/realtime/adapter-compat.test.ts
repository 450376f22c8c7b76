/**
 * The adapter compatibility suite: the same broadcasts through socket.io's stock adapter
 * (SOCKET_ADAPTER=memory) and through the native Bun pub/sub one (bun), checked at real
 * socket.io-clients on websocket, polling and upgraded connections, and as raw frames on the wire.
 * The server is test/helpers/adapter-harness.ts (the project's adapter module on bun-engine), so the
 * tests can call io.to(...).emit directly. test/cluster/fanout.test.ts runs the cluster adapters.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Socket as ServerSocket } from "socket.io";
import { fanoutTopics } from "../../src/realtime/fanout/adapter";
import { fanoutUnsupported, installedVersions, VERIFIED } from "../../src/realtime/fanout/self-test";
import { type Harness, harness, type Kind, type Member, range, settle, until } from "../helpers/adapter-harness";

let open: Harness[] = [];
const start = async (kind: Kind, opts?: Parameters<typeof harness>[1]) => {
  const h = await harness(kind, opts);
  open.push(h);
  return h;
};
afterEach(async () => {
  await Promise.all(open.map((h) => h.close()));
  open = [];
});

test("the native fan-out is verified for the installed packages (raise VERIFIED only after this suite passes)", () => {
  expect(fanoutUnsupported()).toBeUndefined();
  expect(installedVersions()).toEqual({ ...VERIFIED });
  // Any other version: the stock adapter, and the log says why.
  expect(fanoutUnsupported("bun", { ...VERIFIED, "@socket.io/bun-engine": "0.1.3" })).toBe(
    "@socket.io/bun-engine 0.1.3 is installed; the native fan-out is verified with 0.1.2",
  );
});

describe.each(["memory", "bun"] as const)("%s adapter", (kind) => {
  const native = kind === "bun";

  test("to(room): websocket, polling and upgraded members get each broadcast once; others nothing", async () => {
    const h = await start(kind);
    const members = [await h.member("websocket"), await h.member("polling"), await h.member("upgraded")];
    const outsider = await h.member("websocket");
    for (const m of members) m.server.join("r");
    if (native) expect(h.stats()).toEqual({ native: 3, stock: 1 });
    for (let i = 0; i < 20; i++) h.io.to("r").emit("m", i);
    await until(() => members.every((m) => m.got().length >= 20), "the broadcasts");
    await settle();
    for (const m of members) expect(m.got()).toEqual(range(0, 20));
    expect(outsider.got()).toEqual([]);
  });

  test("to([a, b]): each socket once, whichever of the rooms it is in", async () => {
    const h = await start(kind);
    const [inA, inB, inBoth, pollingBoth, none] = [
      await h.member("websocket"),
      await h.member("websocket"),
      await h.member("websocket"),
      await h.member("polling"),
      await h.member("websocket"),
    ];
    inA.server.join("a");
    inB.server.join("b");
    inBoth.server.join(["a", "b"]);
    pollingBoth.server.join(["a", "b"]);
    h.io.to(["a", "b"]).emit("m", 1);
    h.io.to("a").to("b").emit("m", 2);
    h.io.to("b").emit("m", 3);
    await settle();
    expect(inA.got()).toEqual([1, 2]);
    expect(inB.got()).toEqual([1, 2, 3]);
    expect(inBoth.got()).toEqual([1, 2, 3]);
    expect(pollingBoth.got()).toEqual([1, 2, 3]);
    expect(none.got()).toEqual([]);
  });

  test("except: excluded sockets and rooms get nothing, with one, several or no excluded subscribers", async () => {
    const h = await start(kind);
    const [w1, w2, w3, p1, vipW, vipP] = [
      await h.member("websocket"),
      await h.member("websocket"),
      await h.member("websocket"),
      await h.member("polling"),
      await h.member("websocket"),
      await h.member("polling"),
    ];
    for (const m of [w1, w2, w3, p1, vipW, vipP]) m.server.join("r");
    for (const m of [vipW, vipP]) m.server.join("vip");
    h.io.to("r").except(w1.server.id).emit("m", 1); // one excluded subscriber
    h.io.to("r").except([w1.server.id, w2.server.id]).emit("m", 2); // two
    h.io.to("r").except("vip").emit("m", 3); // a room with a websocket and a polling member
    h.io.to("r").except(p1.server.id).emit("m", 4); // a polling socket
    h.io.except(w3.server.id).emit("m", 5); // everyone but one
    h.io.to("r").except("nobody-here").emit("m", 6);
    await settle();
    expect(w1.got()).toEqual([3, 4, 5, 6]);
    expect(w2.got()).toEqual([1, 3, 4, 5, 6]);
    expect(w3.got()).toEqual([1, 2, 3, 4, 6]);
    expect(p1.got()).toEqual([1, 2, 3, 5, 6]);
    expect(vipW.got()).toEqual([1, 2, 4, 5, 6]);
    expect(vipP.got()).toEqual([1, 2, 4, 5, 6]);
  });

  test("socket.broadcast and socket.to(room) skip the sender, in or out of the room", async () => {
    const h = await start(kind);
    const sender = await h.member("websocket");
    const others = [await h.member("websocket"), await h.member("polling"), await h.member("upgraded")];
    for (const m of [sender, ...others]) m.server.join("r");
    others[0]?.server.join("q");
    sender.server.broadcast.emit("m", 1);
    sender.server.to("r").emit("m", 2);
    sender.server.to("q").emit("m", 3); // the sender is not in q
    const pollingSender = others[1] as Member;
    pollingSender.server.to("r").emit("m", 4);
    await settle();
    expect(sender.got()).toEqual([4]);
    expect(others[0]?.got()).toEqual([1, 2, 3, 4]);
    expect(others[1]?.got()).toEqual([1, 2]);
    expect(others[2]?.got()).toEqual([1, 2, 4]);
  });

  test("io.emit reaches the whole namespace; namespaces stay apart, also on one connection", async () => {
    const h = await start(kind);
    const rootW = await h.member("websocket");
    const rootP = await h.member("polling");
    const aW = await h.member("websocket", "/a");
    const [muxRoot, muxA] = (await h.multiplexed(["/", "/a"])) as [Member, Member];
    for (const m of [rootW, aW, muxRoot, muxA]) m.server.join("r");
    if (native)
      expect([h.stats("/"), h.stats("/a")]).toEqual([
        { native: 2, stock: 1 },
        { native: 2, stock: 0 },
      ]);
    h.io.emit("m", "root");
    h.io.of("/a").emit("m", "a");
    h.io.to("r").emit("m", "root r");
    h.io.of("/a").to("r").emit("m", "a r");
    h.io.of("/b").emit("m", "b");
    await settle();
    expect(rootW.got()).toEqual(["root", "root r"]);
    expect(rootP.got()).toEqual(["root"]);
    expect(muxRoot.got()).toEqual(["root", "root r"]);
    expect(aW.got()).toEqual(["a", "a r"]);
    expect(muxA.got()).toEqual(["a", "a r"]);
  });

  test("volatile broadcasts reach open websockets and carry no recovery offset", async () => {
    const h = await start(kind);
    const members = [await h.member("websocket"), await h.member("upgraded")];
    const args: unknown[][][] = [[], []];
    members.forEach((m, i) => {
      m.server.join("r");
      m.client.on("v", (...a: unknown[]) => args[i]?.push(a));
    });
    h.io.volatile.to("r").emit("v", 1);
    h.io.to("r").emit("v", 2);
    h.io.volatile.emit("v", 3);
    await settle();
    for (const a of args) {
      expect(a.map((x) => x[0])).toEqual([1, 2, 3]);
      // Recovery appends the offset to kept broadcasts only.
      expect(a.map((x) => x.length)).toEqual([1, 2, 1]);
      expect(typeof a[1]?.[1]).toBe("string");
    }
  });

  test("binary attachments arrive intact on websocket, polling and upgraded connections", async () => {
    const h = await start(kind);
    const members = [await h.member("websocket"), await h.member("polling"), await h.member("upgraded")];
    const got: unknown[][] = [[], [], []];
    members.forEach((m, i) => {
      m.server.join("r");
      m.client.on("bin", (a: Uint8Array, b: { nested: Uint8Array; n: number }) =>
        got[i]?.push([[...new Uint8Array(a)], [...new Uint8Array(b.nested)], b.n]),
      );
    });
    h.io.to("r").emit("bin", Buffer.from([1, 2, 3]), { nested: new Uint8Array([4, 5]), n: 1 });
    h.io.emit("bin", new Uint8Array([6]).buffer, { nested: Buffer.from([7]), n: 2 });
    await settle();
    for (const g of got)
      expect(g).toEqual([
        [[1, 2, 3], [4, 5], 1],
        [[6], [7], 2],
      ]);
  });

  test("the frames on the wire are the stock ones: text, binary attachments, namespaces", async () => {
    const h = await start(kind, { recovery: false });
    const ws = new WebSocket(`${h.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
    ws.binaryType = "arraybuffer";
    const frames: (string | number[])[] = [];
    ws.onmessage = (e) => frames.push(typeof e.data === "string" ? e.data : [...new Uint8Array(e.data)]);
    await until(() => frames.length === 1, "the open packet");
    ws.send("40");
    ws.send("40/a,");
    await until(() => frames.length === 3, "two connects");
    const [root, a] = [h.io.of("/").sockets, h.io.of("/a").sockets].map((s) => [...s.values()][0] as ServerSocket);
    root?.join("r");
    a?.join("r");
    frames.length = 0;
    h.io.to("r").emit("t", { x: "é" });
    h.io.to("r").emit("b", Buffer.from([1, 2]), "s");
    h.io.of("/a").to("r").emit("t", 1);
    h.io.emit("e");
    h.io.of("/a").emit("b", Buffer.from([3]), Buffer.from([4]));
    await until(() => frames.length === 8, "eight frames");
    expect(frames).toEqual([
      '42["t",{"x":"é"}]',
      '451-["b",{"_placeholder":true,"num":0},"s"]',
      [1, 2],
      '42/a,["t",1]',
      '42["e"]',
      '452-/a,["b",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
      [3],
      [4],
    ]);
    ws.close();
  });

  test("order: thousands of interleaved broadcasts and direct emits arrive in order at every client", async () => {
    const h = await start(kind);
    const members = [
      await h.member("websocket"),
      await h.member("websocket"),
      await h.member("polling"),
      await h.member("upgraded"),
    ];
    const inS = new Set([0, 3]);
    members.forEach((m, i) => {
      m.server.join("r");
      if (inS.has(i)) m.server.join("s");
    });
    const expected: number[][] = members.map(() => []);
    const deliver = (seq: number, to: (i: number) => boolean) => {
      members.forEach((_, i) => {
        if (to(i)) expected[i]?.push(seq);
      });
    };
    const N = 3000;
    for (let seq = 0; seq < N; seq++) {
      const k = seq % 7;
      const who = seq % members.length;
      const sender = members[who] as Member;
      if (k === 0) {
        h.io.to("r").emit("m", seq);
        deliver(seq, () => true);
      } else if (k === 1) {
        sender.server.emit("m", seq); // direct
        deliver(seq, (i) => i === who);
      } else if (k === 2) {
        h.io.to("s").emit("m", seq);
        deliver(seq, (i) => inS.has(i));
      } else if (k === 3) {
        sender.server.to("r").emit("m", seq);
        deliver(seq, (i) => i !== who);
      } else if (k === 4) {
        h.io.emit("m", seq);
        deliver(seq, () => true);
      } else if (k === 5) {
        h.io.to(["r", "s"]).emit("m", seq); // the stock path
        deliver(seq, () => true);
      } else {
        h.io.to(sender.server.id).emit("m", seq); // a private room
        deliver(seq, (i) => i === who);
      }
      if (seq % 100 === 99) await Bun.sleep(1);
    }
    await until(() => members.every((m, i) => m.got().length >= (expected[i]?.length ?? 0)), "every message", 20_000);
    await settle();
    members.forEach((m, i) => {
      expect(m.got()).toEqual(expected[i] as number[]);
    });
  });

  test("an upgrade in the middle of a stream: everything once, in order, and native from then on", async () => {
    const h = await start(kind, { upgradeDelayMs: 150 });
    const steady = await h.member("websocket");
    const moving = await h.member("upgrading");
    steady.server.join("r");
    moving.server.join("r");
    expect(moving.server.conn.transport.name).toBe("polling");
    let seq = 0;
    let upgradedAt = -1;
    moving.client.io.engine.once("upgrade", () => {
      upgradedAt = moving.got().length;
    });
    const expectedMoving: number[] = [];
    const expectedSteady: number[] = [];
    const timer = setInterval(() => {
      for (let i = 0; i < 5; i++, seq++) {
        if (seq % 3 === 2) {
          moving.server.emit("m", seq);
          expectedMoving.push(seq);
        } else {
          h.io.to("r").emit("m", seq);
          expectedMoving.push(seq);
          expectedSteady.push(seq);
        }
      }
    }, 2);
    await until(() => upgradedAt >= 0, "the client's upgrade");
    await Bun.sleep(150);
    clearInterval(timer);
    await until(() => moving.got().length >= expectedMoving.length, "the stream");
    await settle();
    expect(upgradedAt).toBeGreaterThan(0); // the stream was flowing before the upgrade
    expect(moving.got().length).toBeGreaterThan(upgradedAt);
    expect(moving.got()).toEqual(expectedMoving);
    expect(steady.got()).toEqual(expectedSteady);
    if (native) expect(h.stats()).toEqual({ native: 2, stock: 0 });
  });

  test("leave and re-join: nothing while out, once again after", async () => {
    const h = await start(kind);
    const members = [await h.member("websocket"), await h.member("polling"), await h.member("upgraded")];
    const topic = fanoutTopics.room("/", "r");
    for (const m of members) m.server.join("r");
    if (native) expect(h.subscribers(topic)).toBe(2);
    h.io.to("r").emit("m", 1);
    for (const m of members) m.server.leave("r");
    if (native) expect(h.subscribers(topic)).toBe(0);
    h.io.to("r").emit("m", 2);
    for (const m of members) m.server.join("r");
    for (const m of members) m.server.join("r"); // twice: still once
    h.io.to("r").emit("m", 3);
    await settle();
    for (const m of members) expect(m.got()).toEqual([1, 3]);
    if (native) expect(h.subscribers(topic)).toBe(2);
  });

  test("nothing left behind after disconnects: adapter maps empty, topics unsubscribed", async () => {
    const h = await start(kind);
    const members = [
      await h.member("websocket"),
      await h.member("polling"),
      await h.member("upgraded"),
      await h.member("websocket"),
      await h.member("websocket", "/a"),
    ];
    const [muxRoot, muxA] = (await h.multiplexed(["/", "/a"])) as [Member, Member];
    for (const m of [...members, muxRoot, muxA]) m.server.join(["r", "s"]);
    h.io.to("r").emit("m", 1);
    h.io.of("/a").to("r").emit("m", 1);
    const topics = ["/", "/a"].flatMap((n) => [
      fanoutTopics.everyone(n),
      fanoutTopics.room(n, "r"),
      fanoutTopics.room(n, "s"),
    ]);
    if (native) expect(topics.map(h.subscribers)).toEqual([4, 4, 4, 2, 2, 2]); // the polling member is stock

    // Leaving one namespace keeps the connection, and its topics in the other namespace.
    muxA.server.disconnect();
    await until(() => !muxA.client.connected, "the namespace disconnect");
    if (native) expect(topics.map(h.subscribers)).toEqual([4, 4, 4, 1, 1, 1]);
    expect(muxRoot.client.connected).toBe(true);

    members[0]?.client.disconnect(); // from the client
    members[1]?.server.disconnect(true); // from the server, polling
    members[2]?.client.io.engine.close(); // the transport drops
    members[3]?.server.conn.close(); // the engine closes it
    members[4]?.client.disconnect();
    muxRoot.server.disconnect(true);
    await until(() => h.io.of("/").sockets.size + h.io.of("/a").sockets.size === 0, "every disconnect");
    for (const nsp of ["/", "/a"]) {
      const adapter = h.io.of(nsp).adapter;
      expect([adapter.rooms.size, adapter.sids.size]).toEqual([0, 0]);
      if (native) expect(h.stats(nsp)).toEqual({ native: 0, stock: 0 });
    }
    if (native) expect(topics.map(h.subscribers)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  for (const how of ["the client's transport drops", "the server closes the connection"]) {
    test(`recovery after a forced disconnect (${how}): missed broadcasts replayed once, in order`, async () => {
      const h = await start(kind);
      const other = await h.member("websocket");
      const away = await h.member("websocket", "/", { reconnection: true, reconnectionDelay: 300 });
      for (const m of [other, away]) m.server.join("r");
      const idBefore = away.client.id;
      for (let i = 0; i < 10; i++) h.io.to("r").emit("m", i);
      await until(() => away.got().length === 10, "the first broadcasts");

      const serverSide = away.server;
      const gone = new Promise((resolve) => away.client.once("disconnect", resolve));
      if (how.startsWith("the client")) away.client.io.engine.close();
      else serverSide.conn.close();
      await gone;
      await until(() => serverSide.disconnected, "the disconnect");
      for (let i = 10; i < 40; i++) {
        if (i % 5 === 0) h.io.emit("m", i);
        else h.io.to("r").emit("m", i);
      }
      other.server.to("r").emit("m", 40);
      await until(() => away.client.connected, "the reconnect");
      expect(away.client.recovered).toBe(true);
      expect(away.client.id).toBe(idBefore as string);
      const back = h.io.of("/").sockets.get(idBefore as string) as ServerSocket;
      expect([...back.rooms].sort()).toEqual([idBefore as string, "r"].sort());
      for (let i = 41; i < 50; i++) h.io.to("r").emit("m", i);
      back.emit("m", 50);
      await until(() => away.got().length >= 51, "the replay and what follows");
      await settle();
      expect(away.got()).toEqual(range(0, 51));
      if (native) expect(h.stats()).toEqual({ native: 2, stock: 0 });
    });
  }

  test("onAnyOutgoing listeners see every broadcast, and the client gets each once", async () => {
    const h = await start(kind);
    const watched = await h.member("websocket");
    const other = await h.member("websocket");
    for (const m of [watched, other]) m.server.join("r");
    const seen: unknown[] = [];
    watched.server.onAnyOutgoing((event: string, first: unknown) => {
      if (event === "m") seen.push(first);
    });
    if (native) expect(h.stats()).toEqual({ native: 1, stock: 1 });
    h.io.to("r").emit("m", 1);
    h.io.emit("m", 2);
    other.server.broadcast.emit("m", 3);
    other.server.to("r").emit("m", 4);
    watched.server.emit("m", 5);
    await settle();
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(watched.got()).toEqual([1, 2, 3, 4, 5]);
    expect(other.got()).toEqual([1, 2]);
  });

  test("broadcasts with acks reach every member and collect every answer", async () => {
    const h = await start(kind);
    const members = [await h.member("websocket"), await h.member("polling"), await h.member("upgraded")];
    members.forEach((m, i) => {
      m.server.join("r");
      m.client.on("q", (n: number, answer: (x: number) => void) => answer(n + i));
    });
    const answers = (await h.io.to("r").timeout(3000).emitWithAck("q", 10)) as number[];
    expect(answers.sort()).toEqual([10, 11, 12]);
    h.io.to("r").emit("m", "after");
    await settle();
    for (const m of members) expect(m.got()).toEqual(["after"]);
  });

  test("a private room is its socket, and whoever else joined it", async () => {
    const h = await start(kind);
    const [a, b, c] = [await h.member("websocket"), await h.member("websocket"), await h.member("polling")];
    h.io.to(a.server.id).emit("m", 1);
    b.server.join(a.server.id);
    c.server.join(a.server.id);
    h.io.to(a.server.id).emit("m", 2);
    h.io.to(a.server.id).except(b.server.id).emit("m", 3);
    await settle();
    expect(a.got()).toEqual([1, 2, 3]);
    expect(b.got()).toEqual([2]);
    expect(c.got()).toEqual([2, 3]);
  });

  test("a broadcast from a socket on its way out (disconnecting) reaches the room, not itself", async () => {
    const h = await start(kind);
    const others = [await h.member("websocket"), await h.member("polling")];
    const leavers = [await h.member("websocket"), await h.member("websocket")];
    for (const m of [...others, ...leavers]) {
      m.server.join("r");
      m.server.on("disconnecting", () => m.server.to("r").emit("bye", m.server.id));
    }
    const ids = leavers.map((m) => m.server.id);
    leavers[0]?.client.disconnect(); // a DISCONNECT packet: its websocket is still open
    leavers[1]?.client.io.engine.close(); // its websocket is already closed
    await until(() => others.every((m) => m.got("bye").length === 2), "both goodbyes");
    await settle();
    for (const m of others) expect(m.got("bye").sort()).toEqual([...ids].sort());
  });
});
