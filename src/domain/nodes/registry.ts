/**
 * The statements on `gateway_nodes` and `node_users` (prepared once): a node's own row, its heartbeat,
 * and the claim of dead nodes' users. A claim is a DELETE … RETURNING, so of the nodes sweeping at
 * once each row goes to exactly one.
 */
import { and, eq, lt, ne, notInArray, sql } from "drizzle-orm";
import type { Store } from "../../db/client";

export interface DeadNode {
  nodeId: string;
  /** Its last heartbeat, epoch ms. */
  heartbeatAt: number;
}

export interface HeldUser {
  nodeId: string;
  userId: string;
}

export function createRegistry(store: Store, nodeId: string) {
  const { gatewayNodes, nodeUsers } = store.tables;

  const register = store.statement((db) =>
    db
      .insert(gatewayNodes)
      .values({
        nodeId: sql.placeholder("nodeId"),
        startedAt: sql.placeholder("startedAt"),
        heartbeatAt: sql.placeholder("now"),
      })
      .onConflictDoUpdate({ target: gatewayNodes.nodeId, set: { heartbeatAt: sql`excluded.heartbeat_at` } }),
  );
  const beat = store.statement((db) =>
    db
      .update(gatewayNodes)
      .set({ heartbeatAt: sql`${sql.placeholder("now")}` })
      .where(eq(gatewayNodes.nodeId, sql.placeholder("nodeId")))
      .returning({ nodeId: gatewayNodes.nodeId }),
  );
  const unregister = store.statement((db) =>
    db.delete(gatewayNodes).where(eq(gatewayNodes.nodeId, sql.placeholder("nodeId"))),
  );
  const claimDead = store.statement((db) =>
    db
      .delete(gatewayNodes)
      .where(
        and(
          lt(gatewayNodes.heartbeatAt, sql.placeholder("cutoff")),
          ne(gatewayNodes.nodeId, sql.placeholder("nodeId")),
        ),
      )
      .returning({ nodeId: gatewayNodes.nodeId, heartbeatAt: gatewayNodes.heartbeatAt }),
  );
  // Rows whose node is gone: those of the nodes claimed just before, and any a failed check gave back.
  const claimOrphans = store.statement((db) =>
    db
      .delete(nodeUsers)
      .where(notInArray(nodeUsers.nodeId, db.select({ nodeId: gatewayNodes.nodeId }).from(gatewayNodes)))
      .returning({ nodeId: nodeUsers.nodeId, userId: nodeUsers.userId }),
  );
  const giveBack = store.statement((db) =>
    db
      .insert(nodeUsers)
      .values({ nodeId: sql.placeholder("nodeId"), userId: sql.placeholder("userId") })
      .onConflictDoNothing(),
  );

  return {
    /** This node's row, with its first heartbeat (again, when it had been taken for dead). */
    register: (startedAt: string) => store.write(register.with({ nodeId, startedAt, now: Date.now() })),
    /** Its heartbeat; false when its row is gone (another node took it for dead). */
    beat: async () => (await store.write(beat.with({ nodeId, now: Date.now() }))).length > 0,
    unregister: () => store.write(unregister.with({ nodeId })),
    /**
     * Takes the nodes silent since before `cutoff` (epoch ms), and the users of every node without a
     * row, in one transaction: whoever deletes a node's row gets its users, with its last heartbeat.
     */
    async claim(cutoff: number): Promise<{ dead: DeadNode[]; users: HeldUser[] }> {
      const [dead, users] = (await store.write(claimDead.with({ cutoff, nodeId }), claimOrphans.with())) as [
        DeadNode[],
        HeldUser[],
      ];
      return { dead, users };
    },
    /** Puts users back for a later sweep (their check failed). */
    giveBack: (users: HeldUser[]) =>
      Promise.all(users.map(({ nodeId, userId }) => store.write(giveBack.with({ nodeId, userId })))),
  };
}

export type Registry = ReturnType<typeof createRegistry>;
