/**
 * A Socket.IO adapter that sends room broadcasts through Bun's WebSocket pub/sub: encoded once, each
 * frame published once to a topic, fanned out natively. Clients see the same frames as with the
 * stock adapter.
 *
 * - A socket is "native" while its engine connection is an open Bun WebSocket with nothing buffered:
 *   its ServerWebSocket is then subscribed to its namespace's topic and to one topic per room, never
 *   its own id room. Every other connected socket (polling, upgrading, with onAnyOutgoing listeners)
 *   is "stock" and gets each broadcast per socket, as socket.io-adapter writes it, in the same call.
 * - Order: a socket becomes native only once everything the engine wrote for it has gone to Bun
 *   (at `upgrade` when the buffer is empty, else at the `drain` that follows); Bun keeps its sends and
 *   publishes in call order. Going back to stock (unsubscribing) is safe at any time.
 * - Whatever one publish cannot do exactly goes the stock way: several rooms (a member of two must
 *   get it once), a private room (direct emits), an empty room, acks, several excluded subscribers.
 * - With connection state recovery, the offset is added and kept exactly as SessionAwareAdapter does.
 */
import { type Adapter, type BroadcastOptions, type Room, SessionAwareAdapter, type SocketId } from "socket.io-adapter";
import { yeast } from "socket.io-adapter/dist/contrib/yeast.js";
import { type EngineConn, type EngineLink, frameOf, type NativeSocket, nativeSocketOf } from "./engine";

/** A socket.io Socket, through the members the stock per-socket path uses. */
interface StockSocket {
  id: SocketId;
  conn: EngineConn;
  client: { writeToEngine(encoded: unknown[], opts: object): void };
  notifyOutgoingListeners(packet: Packet): void;
  _anyOutgoingListeners?: unknown[];
}

interface Packet {
  type: number;
  data: unknown[];
  id?: number;
  nsp?: string;
}

interface Member {
  socket: StockSocket;
  /** Set while the socket is native. */
  ws: NativeSocket | undefined;
  /** Has (or had) onAnyOutgoing listeners: socket.io calls them per socket, so it stays stock. */
  pinned: boolean;
  unlisten(): void;
}

/** Where one publish goes, whom it skips, and who gets it the stock way. */
interface Route {
  topic: string;
  room: Room | undefined;
  /** The one excluded subscriber: it publishes, and Bun skips it. */
  skip: NativeSocket | undefined;
  excluded: Set<SocketId> | undefined;
}

const EVENT = 2;

/** Topic names: `<namespace length>:<namespace>` then `*` (everyone) or `#<room>`, so namespaces never mix. */
export const fanoutTopics = {
  everyone: (nsp: string) => `${nsp.length}:${nsp}*`,
  room: (nsp: string, room: Room) => `${nsp.length}:${nsp}#${room}`,
};

export function fanoutAdapter(Base: typeof Adapter, link: EngineLink): typeof Adapter {
  return class FanoutAdapter extends Base {
    private readonly members = new Map<SocketId, Member>();
    private readonly native = new Map<SocketId, NativeSocket>();
    /** Connected sockets on the stock path. */
    private readonly stock = new Set<SocketId>();
    private readonly everyone = fanoutTopics.everyone(this.nsp.name);
    private readonly roomPrefix = fanoutTopics.room(this.nsp.name, "");

    /** How many sockets are native and how many stock (tests, diagnostics). */
    fanoutStats() {
      return { native: this.native.size, stock: this.stock.size };
    }

    private topic(room: Room) {
      return this.roomPrefix + room;
    }

    override addAll(id: SocketId, rooms: Set<Room>) {
      super.addAll(id, rooms);
      const member = this.members.get(id);
      if (!member) return this.track(id);
      if (member.ws) for (const room of rooms) if (room !== id) member.ws.subscribe(this.topic(room));
    }

    override del(id: SocketId, room: Room) {
      super.del(id, room);
      if (room !== id) this.native.get(id)?.unsubscribe(this.topic(room));
    }

    override delAll(id: SocketId) {
      const member = this.members.get(id);
      if (member) {
        this.toStock(id, member);
        member.unlisten();
        this.members.delete(id);
        this.stock.delete(id);
      }
      super.delAll(id);
    }

    /** A socket seen connected for the first time (socket.io's `_onconnect` joins its id room). */
    private track(id: SocketId) {
      const socket = this.nsp.sockets.get(id) as StockSocket | undefined;
      if (!socket) return; // not connected yet (a recovered socket under middleware): stock skips it too
      const conn = socket.conn;
      const member: Member = {
        socket,
        ws: undefined,
        pinned: socket._anyOutgoingListeners !== undefined,
        unlisten() {},
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
      if (!link.server || link.foreign.has(conn)) return false;
      const ws = nativeSocketOf(conn);
      if (!ws) return false;
      member.ws = ws;
      this.native.set(id, ws);
      this.stock.delete(id);
      ws.subscribe(this.everyone);
      for (const room of this.sids.get(id) ?? []) if (room !== id) ws.subscribe(this.topic(room));
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
      for (const room of this.sids.get(id) ?? []) if (room !== id) ws.unsubscribe(this.topic(room));
    }

    override broadcast(packet: Packet, opts: BroadcastOptions) {
      const route = packet.id === undefined ? this.route(opts) : undefined;
      const server = link.server;
      if (!route || !server) return super.broadcast(packet, opts);
      if (this instanceof SessionAwareAdapter) keepForRecovery(this, packet, opts);
      const flags = opts.flags ?? {};
      const packetOpts = { preEncoded: true, volatile: flags.volatile, compress: flags.compress };
      packet.nsp = this.nsp.name;
      const encoded: unknown[] = this.nsp.server.encoder.encode(packet);
      const publisher = route.skip ?? server;
      for (const part of encoded) publisher.publish(route.topic, frameOf(part));
      this.eachStock(route, (socket) => {
        socket.notifyOutgoingListeners(packet);
        socket.client.writeToEngine(encoded, packetOpts);
      });
    }

    /** The publish for this broadcast, or undefined when only the stock path is exact. */
    private route(opts: BroadcastOptions): Route | undefined {
      if (this.native.size === 0 || opts.rooms.size > 1) return undefined;
      let room: Room | undefined;
      let topic = this.everyone;
      if (opts.rooms.size === 1) {
        room = opts.rooms.values().next().value as Room;
        if (this.nsp.sockets.has(room) || !this.rooms.has(room)) return undefined;
        topic = this.topic(room);
      }
      let skip: NativeSocket | undefined;
      let excluded: Set<SocketId> | undefined;
      if (opts.except?.size) {
        excluded = new Set();
        for (const r of opts.except) for (const id of this.rooms.get(r) ?? []) excluded.add(id);
        for (const id of excluded) {
          const ws = this.native.get(id);
          if (!ws || (room !== undefined && !this.rooms.get(room)?.has(id))) continue;
          if (skip) return undefined;
          skip = ws;
        }
      }
      return { topic, room, skip, excluded };
    }

    /** The stock-path recipients: connected, not native, in the room, not excluded. */
    private eachStock({ room, excluded }: Route, send: (socket: StockSocket) => void) {
      const members = room === undefined ? undefined : this.rooms.get(room);
      const pool = members && members.size < this.stock.size ? members : this.stock;
      for (const id of pool) {
        if (!this.stock.has(id) || (members && !members.has(id)) || excluded?.has(id)) continue;
        const socket = this.nsp.sockets.get(id) as StockSocket | undefined;
        if (socket) send(socket);
      }
    }
  };
}

/** SessionAwareAdapter.broadcast's bookkeeping: one offset per broadcast, appended to its data and kept for replay. */
function keepForRecovery(adapter: SessionAwareAdapter, packet: Packet, opts: BroadcastOptions) {
  if (packet.type !== EVENT || packet.id !== undefined || opts.flags?.volatile !== undefined) return;
  const id = yeast();
  packet.data.push(id);
  (adapter as unknown as { packets: object[] }).packets.push({ id, opts, data: packet.data, emittedAt: Date.now() });
}
