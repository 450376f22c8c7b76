/** Open connections for backends (seed 003's socket stats), read through the delivery port. */
import type { ConnectionInfo, Delivery } from "../delivery";
import { AppError } from "../errors";

export interface ConnectionPage {
  totalConnections: number;
  connections: Omit<ConnectionInfo, "rooms">[];
  nextCursor: string | null;
}

/** Oldest first; ties broken by socket id, so pages neither repeat nor skip a connection. */
const sortKey = (c: ConnectionInfo) => `${c.connectedAt} ${c.socketId}`;
const KEY = /^\d{4}-\d\d-\d\dT[\d:.]+Z [^\s]+$/;

function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, "base64url").toString("utf8");
  if (!KEY.test(key)) {
    throw new AppError("BAD_REQUEST", "Invalid input: cursor: is not a nextCursor from this endpoint", {
      issues: [{ path: "cursor", message: "is not a nextCursor from this endpoint" }],
    });
  }
  return key;
}

export function createConnections(delivery: Delivery) {
  return {
    async page({ limit, cursor }: { limit: number; cursor?: string }): Promise<ConnectionPage> {
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      const all = (await delivery.connections()).map((c) => ({ key: sortKey(c), c }));
      all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const rest = after === undefined ? all : all.filter((x) => x.key > after);
      const page = rest.slice(0, limit);
      const last = page.at(-1);
      return {
        totalConnections: all.length,
        connections: page.map(({ c: { rooms: _rooms, ...info } }) => info),
        nextCursor: rest.length > limit && last ? Buffer.from(last.key).toString("base64url") : null,
      };
    },
  };
}

export type Connections = ReturnType<typeof createConnections>;
