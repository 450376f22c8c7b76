/**
 * Room broadcasts through Bun's WebSocket pub/sub, added to any socket.io-adapter Adapter: the stock
 * in-memory one (one node) or a cluster one (Redis), whose local delivery is the same
 * `Adapter.broadcast`. A broadcast is encoded once and each frame published once to a topic, fanned
 * out natively. Clients see the same frames as with the stock adapter.
 *
 * - Where it hooks in: `Adapter.broadcast` encodes (`_encode`) and then, synchronously, hands a
 *   per-socket writer to `apply`. Every adapter delivers locally through it: the session-aware one
 *   after keeping the packet for recovery, the cluster ones after publishing to the other nodes (or
 *   on a broadcast from another node), with the recovery offset already appended. So the fan-out
 *   keeps the frames `_encode` made and, in the `apply` that follows, publishes them and runs the
 *   writer only for sockets that are not native. Every other `apply` (joins, fetches, acks) is stock.
 * - A socket is "native" while its engine connection is an open Bun WebSocket with nothing buffered:
 *   its ServerWebSocket is then subscribed to its namespace's topic and to one topic per room, never
 *   its own id room. Every other connected socket (polling, upgrading, with onAnyOutgoing listeners)
 *   is "stock" and gets each broadcast per socket, as socket.io-adapter writes it, in the same call.
 * - Order: a socket becomes native only once everything the engine wrote for it has gone to Bun
 *   (at `upgrade` when the buffer is empty, else at the `drain` that follows); Bun keeps its sends and
 *   publishes in call order. Going back to stock (unsubscribing) is safe at any time.
 * - Whatever one publish cannot do exactly goes the stock way: several rooms (a member of two must
 *   get it once), a private room (direct emits), an empty room, acks, several excluded subscribers.
 */
import type { Adapter, BroadcastOptions, Room, SocketId } from "socket.io-adapter";
import { type EngineConn, type EngineLink, frameOf, type NativeSocket, nativeSocketOf } from "./engine";

/** A socket.io Socket, through the members the fan-out uses. */
interface StockSocket {
  id: SocketId;
  conn: EngineConn;
  _anyOutgoingListeners?: unknown[];
}

interface Packet {
  type: number;
  data: unknown[];
  id?: number;
  nsp?: string;
}

/** The Adapter members the fan-out reads or wraps (`_encode` and `apply` are private in its types). */
interface AdapterInternals {
  nsp: Adapter["nsp"];
  rooms: Adapter["rooms"];
  sids: Adapter["sids"];
  encoder: { encode(packet: Packet): unknown[] };
  addAll(id: SocketId, rooms: Set<Room>): Promise<void> | void;
  del(id: SocketId, room: Room): Promise<void> | void;
  delAll(id: SocketId): void;
  _encode(packet: Packet, packetOpts: object): unknown[];
  apply(opts: BroadcastOptions, callback: (socket: StockSocket) => void): void;
}

export interface FanoutStats {
  native: number;
  stock: number;
}

/** An adapter with the native fan-out added. */
export type FanoutAdapter<A extends Adapter = Adapter> = A & { fanoutStats(): FanoutStats };

interface Member {
  socket: StockSocket;
  /** Set while the socket is native. */
  ws: NativeSocket | undefined;
  /** Has (or had) onAnyOutgoing listeners: socket.io calls them per socket, so it stays stock. */
  pinned: boolean;
  unlisten(): void;
}

/** Where one publish goes, and who gets it the stock way. */
interface Route {
  topic: string;
  room: Room | undefined;
  /** The one excluded subscriber: it publishes, and Bun skips it. */
  skip: NativeSocket | undefined;
  excluded: Set<SocketId> | undefined;
}

/** A member that never listened to its connection (not one function per socket). */
const listensToNothing = () => {};

/** Topic names: `<namespace length>:<namespace>` then `*` (everyone) or `#<room>`, so namespaces never mix. */
export const fanoutTopics = {
  everyone: (nsp: string) => `${nsp.length}:${nsp}*`,
  room: (nsp: string, room: Room) => `${nsp.length}:${nsp}#${room}`,
};

/** Adds the native fan-out to one namespace's adapter, in place, and returns it. */
export function withNativeFanout<A extends Adapter>(adapter: A, link: EngineLink): FanoutAdapter<A> {
  const internals = adapter as unknown as AdapterInternals;
  const fanout = new NativeFanout(internals, link);
  const stock = {
    addAll: internals.addAll,
    del: internals.del,
    delAll: internals.delAll,
    apply: internals.apply,
  };
  /** The frames of the broadcast being delivered, from its `_encode` to the `apply` right after it. */
  let encoded: unknown[] | undefined;
  Object.assign(internals, {
    addAll(id: SocketId, rooms: Set<Room>) {
      const done = stock.addAll.call(internals, id, rooms);
      fanout.joined(id, rooms);
      return done;
    },
    del(id: SocketId, room: Room) {
      const done = stock.del.call(internals, id, room);
      fanout.left(id, room);
      return done;
    },
    delAll(id: SocketId) {
      fanout.gone(id);
      stock.delAll.call(internals, id);
    },
    // socket.io-adapter also builds a frame for the `ws` package here; bun-engine never reads it.
    _encode(packet: Packet) {
      const parts = internals.encoder.encode(packet);
      encoded = packet.id === undefined ? parts : undefined;
      return parts;
    },
    apply(opts: BroadcastOptions, writer: (socket: StockSocket) => void) {
      const parts = encoded;
      encoded = undefined;
      if (!parts || !fanout.publish(opts, parts, writer)) stock.apply.call(internals, opts, writer);
    },
    fanoutStats: () => fanout.stats(),
  });
  return adapter as FanoutAdapter<A>;
}

/** Which sockets are native, their subscriptions, and the publish of one broadcast. */
class NativeFanout {
  private readonly members = new Map<SocketId, Member>();
  private readonly native = new Map<SocketId, NativeSocket>();
  /** Connected sockets on the stock path. */
  private readonly stock = new Set<SocketId>();
  private readonly everyone: string;
  private readonly roomPrefix: string;

  constructor(
    private readonly adapter: AdapterInternals,
    private readonly link: EngineLink,
  ) {
    this.everyone = fanoutTopics.everyone(adapter.nsp.name);
    this.roomPrefix = fanoutTopics.room(adapter.nsp.name, "");
  }

  stats(): FanoutStats {
    return { native: this.native.size, stock: this.stock.size };
  }

  private topic(room: Room) {
    return this.roomPrefix + room;
  }

  joined(id: SocketId, rooms: Set<Room>) {
    const member = this.members.get(id);
    if (!member) return this.track(id);
    if (member.ws) for (const room of rooms) if (room !== id) member.ws.subscribe(this.topic(room));
  }

  left(id: SocketId, room: Room) {
    if (room !== id) this.native.get(id)?.unsubscribe(this.topic(room));
  }

  gone(id: SocketId) {
    const member = this.members.get(id);
    if (!member) return;
    this.toStock(id, member);
    member.unlisten();
    this.members.delete(id);
    this.stock.delete(id);
  }

  /** A socket seen connected for the first time (socket.io's `_onconnect` joins its id room). */
  private track(id: SocketId) {
    const socket = this.adapter.nsp.sockets.get(id) as unknown as StockSocket | undefined;
    if (!socket) return; // not connected yet (a recovered socket under middleware): stock skips it too
    const conn = socket.conn;
    const member: Member = {
      socket,
      ws: undefined,
      pinned: socket._anyOutgoingListeners !== undefined,
      unlisten: listensToNothing,
    };
    this.members.set(id, member);
    this.stock.add(id);
    if (!member.pinned) this.pinOnOutgoingListeners(id, member);
    if (this.toNative(id, member) || member.pinned || conn.transport.name === "websocket") return;
    // Polling: native once upgraded and flushed (the engine writes what it buffered right after `upgrade`).
    const whenFlushed = () => this.toNative(id, member);
    const onUpgrade = () => {
      if (!this.toNative(id, member)) conn.once("drain", whenFlushed);
    };
    conn.on("upgrade", onUpgrade);
    member.unlisten = () => {
      conn.off("upgrade", onUpgrade);
      conn.off("drain", whenFlushed);
    };
  }

  /** socket.io keeps onAnyOutgoing listeners in this field: once it is set, the socket goes stock for good. */
  private pinOnOutgoingListeners(id: SocketId, member: Member) {
    let listeners: unknown[] | undefined;
    Object.defineProperty(member.socket, "_anyOutgoingListeners", {
      configurable: true,
      enumerable: true,
      get: () => listeners,
      set: (value: unknown[] | undefined) => {
        listeners = value;
        member.pinned = true;
        this.toStock(id, member);
      },
    });
  }

  private toNative(id: SocketId, member: Member): boolean {
    if (member.ws || member.pinned || this.members.get(id) !== member) return false;
    const conn = member.socket.conn;
    if (!this.link.server || this.link.foreign.has(conn)) return false;
    const ws = nativeSocketOf(conn);
    if (!ws) return false;
    member.ws = ws;
    this.native.set(id, ws);
    this.stock.delete(id);
    ws.subscribe(this.everyone);
    for (const room of this.adapter.sids.get(id) ?? []) if (room !== id) ws.subscribe(this.topic(room));
    return true;
  }

  private toStock(id: SocketId, member: Member) {
    const ws = member.ws;
    if (!ws) return;
    member.ws = undefined;
    this.native.delete(id);
    if (this.members.get(id) === member) this.stock.add(id);
    if (ws.readyState !== 1) return; // closed: Bun already dropped its subscriptions
    ws.unsubscribe(this.everyone);
    for (const room of this.adapter.sids.get(id) ?? []) if (room !== id) ws.unsubscribe(this.topic(room));
  }

  /**
   * Delivers one broadcast: each frame published once, `writer` (the stock per-socket write) run for
   * the stock recipients. False, having done nothing, when only the stock path is exact.
   */
  publish(opts: BroadcastOptions, parts: unknown[], writer: (socket: StockSocket) => void): boolean {
    const server = this.link.server;
    const route = server ? this.route(opts) : undefined;
    if (!server || !route) return false;
    const publisher = route.skip ?? server;
    for (const part of parts) publisher.publish(route.topic, frameOf(part));
    this.eachStock(route, writer);
    return true;
  }

  /** The publish for this broadcast, or undefined when only the stock path is exact. */
  private route(opts: BroadcastOptions): Route | undefined {
    if (this.native.size === 0 || opts.rooms.size > 1) return undefined;
    const { rooms, nsp } = this.adapter;
    let room: Room | undefined;
    let topic = this.everyone;
    if (opts.rooms.size === 1) {
      room = opts.rooms.values().next().value as Room;
      if (nsp.sockets.has(room) || !rooms.has(room)) return undefined;
      topic = this.topic(room);
    }
    let skip: NativeSocket | undefined;
    let excluded: Set<SocketId> | undefined;
    if (opts.except?.size) {
      excluded = new Set();
      for (const r of opts.except) for (const id of rooms.get(r) ?? []) excluded.add(id);
      for (const id of excluded) {
        const ws = this.native.get(id);
        if (!ws || (room !== undefined && !rooms.get(room)?.has(id))) continue;
        if (skip) return undefined;
        skip = ws;
      }
    }
    return { topic, room, skip, excluded };
  }

  /** The stock-path recipients: connected, not native, in the room, not excluded. */
  private eachStock({ room, excluded }: Route, send: (socket: StockSocket) => void) {
    const members = room === undefined ? undefined : this.adapter.rooms.get(room);
    const pool = members && members.size < this.stock.size ? members : this.stock;
    for (const id of pool) {
      if (!this.stock.has(id) || (members && !members.has(id)) || excluded?.has(id)) continue;
      const socket = this.adapter.nsp.sockets.get(id) as unknown as StockSocket | undefined;
      if (socket) send(socket);
    }
  }
}
