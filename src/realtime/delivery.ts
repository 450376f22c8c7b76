/**
 * The delivery port on Socket.IO: every call goes through room operations of the main namespace
 * (`io.to(room)`, `in(room).fetchSockets()`, ...), which every adapter carries across nodes. A socket
 * is addressed as the room named by its id, a user as `user:<id>`.
 */

import { within } from "../cluster/within";
import type { ConnectionInfo, Delivery, Target } from "../domain/delivery";
import { userRoom } from "../domain/delivery";
import { AppError } from "../domain/errors";
import type { AppServer, AppSocket } from "./types";

type Scoped = Exclude<Target, { everyone: true }>;

/** The server-side event by which a node asks the others how many of a target's sockets they hold. */
const COUNT_EVENT = "switchboard:count";
interface ServerSideEvents {
  on(event: typeof COUNT_EVENT, listener: (target: Scoped | null, ack: (n: number) => void) => void): void;
}

const roomOf = (target: Scoped): string =>
  "room" in target ? target.room : "user" in target ? userRoom(target.user) : target.socket;

/**
 * `singleNode`: every socket is on this node (adapter.ts says so for its single-node adapters), so
 * lists and counts are read from the namespace itself instead of `fetchSockets()`, which builds a
 * promise and an array of every member on each call (a dispatch to a room of 5,000 paid for that).
 */
export function createDelivery(
  io: AppServer,
  { singleNode, timeoutMs }: { singleNode: boolean; timeoutMs: number },
): Delivery {
  const nsp = io.of("/");
  /** A request to every node; one that does not answer in time fails the call clearly. */
  const clusterWide = async <T>(work: Promise<T>): Promise<T> => {
    try {
      return await within(work, timeoutMs);
    } catch (error) {
      throw new AppError(
        "SERVICE_UNAVAILABLE",
        `A gateway node did not answer within ${timeoutMs} ms (${(error as Error).message}): retry`,
      );
    }
  };
  /** Every node's sockets of a target (the adapter is told the same timeout, so it stops waiting too). */
  const fetchAll = (target?: Scoped) =>
    clusterWide((target ? nsp.in(roomOf(target)) : nsp).timeout(timeoutMs).fetchSockets());
  const scope = (target?: Scoped) => (target ? nsp.in(roomOf(target)) : nsp);
  /** This node's connected sockets of a target (the adapter's room holds ids; connected ones are in nsp.sockets). */
  const eachLocal = (target: Scoped | undefined, visit: (socket: AppSocket) => void) => {
    if (!target) {
      for (const socket of nsp.sockets.values()) visit(socket);
      return;
    }
    const ids = nsp.adapter.rooms.get(roomOf(target));
    if (!ids) return;
    for (const id of ids) {
      const socket = nsp.sockets.get(id);
      if (socket) visit(socket);
    }
  };
  const countLocal = (target?: Scoped) => {
    let n = 0;
    eachLocal(target, () => n++);
    return n;
  };
  // Several nodes: answer the others' counts (server-side events travel through the adapter).
  if (!singleNode) {
    (nsp as unknown as ServerSideEvents).on(COUNT_EVENT, (target, ack) => ack(countLocal(target ?? undefined)));
  }
  const info = (s: Pick<AppSocket, "id" | "data" | "rooms">): ConnectionInfo => ({
    socketId: s.id,
    userId: s.data.user.id,
    channel: s.data.channel ?? null,
    connectedAt: s.data.connectedAt,
    rooms: [...s.rooms],
  });

  const emit = (target: Target, event: string, payload: unknown) => {
    const except = ("except" in target && target.except) || [];
    const operator = "everyone" in target ? nsp.except(except) : nsp.to(roomOf(target)).except(except);
    (operator.emit as (e: string, p: unknown) => void)(event, payload);
  };

  return {
    emit,
    emitDynamic: emit,
    inRoom(socketId, room) {
      const local = nsp.sockets.get(socketId);
      if (local) return local.rooms.has(room);
      return fetchAll({ socket: socketId }).then((sockets) =>
        sockets.some((s) => s.id === socketId && s.rooms.has(room)),
      );
    },
    async join(socketId, room) {
      nsp.in(socketId).socketsJoin(room);
    },
    async leave(socketId, room) {
      nsp.in(socketId).socketsLeave(room);
    },
    async disconnect(target) {
      const sockets = await fetchAll(target);
      scope(target).disconnectSockets(true);
      return sockets.length;
    },
    async connections(target) {
      if (singleNode) {
        const found: ConnectionInfo[] = [];
        eachLocal(target, (socket) => found.push(info(socket)));
        return found;
      }
      return (await fetchAll(target)).map(info);
    },
    async count(target) {
      if (singleNode) return countLocal(target);
      // Each other node counts its own sockets: a number per node, not every member's details.
      const ask = nsp.serverSideEmitWithAck as (ev: string, arg: unknown) => Promise<number[]>;
      const counts = await clusterWide(ask.call(nsp, COUNT_EVENT, target ?? null));
      return counts.reduce((sum, n) => sum + n, countLocal(target));
    },
  };
}
