/**
 * A sweep: claims the nodes silent for too long and the users left without a node (registry.ts), and
 * hands each user to presence, which counts its devices across the cluster and tells friends it left
 * unless one is left. A user whose check fails is put back (`node_users`) for the next sweep.
 */
import type { Presence } from "../presence";
import type { HeldUser, Registry } from "./registry";

export interface LogLike {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SweepDeps {
  registry: Registry;
  presence: Pick<Presence, "leftWithNode">;
  log: LogLike;
  /**
   * The `lastSeen` friends are told: the dead node's last heartbeat (nodes that beat), or now (SQLite,
   * whose one node does not beat: the time of the restart). A user put back gets the time of its check.
   */
  lastSeenFrom: "heartbeat" | "now";
}

/** Users checked at once (each check asks every node). */
const CONCURRENCY = 16;

export function createSweep({ registry, presence, log, lastSeenFrom }: SweepDeps) {
  /** Takes the nodes silent since before `cutoff` (epoch ms) and tells their users' friends. */
  return async function sweep(cutoff: number): Promise<void> {
    const { dead, users } = await registry.claim(cutoff);
    for (const node of dead) {
      log.warn(
        { event: "node_dead", nodeId: node.nodeId, lastHeartbeatAt: new Date(node.heartbeatAt).toISOString() },
        "a gateway node stopped without a graceful shutdown: its users' friends are told they left",
      );
    }
    if (users.length === 0) return;
    const lastBeat = new Map(dead.map((n) => [n.nodeId, n.heartbeatAt]));
    const now = Date.now();
    // A user held by several dead nodes is checked once, last seen when the latest of them was alive.
    const byUser = new Map<string, { lastSeen: number; rows: HeldUser[] }>();
    for (const row of users) {
      const seen = lastSeenFrom === "heartbeat" ? (lastBeat.get(row.nodeId) ?? now) : now;
      const entry = byUser.get(row.userId);
      if (entry) {
        entry.lastSeen = Math.max(entry.lastSeen, seen);
        entry.rows.push(row);
      } else byUser.set(row.userId, { lastSeen: seen, rows: [row] });
    }
    const queue = [...byUser];
    const failed: HeldUser[] = [];
    let firstError: unknown;
    let failing = false;
    const worker = async () => {
      for (let next = queue.pop(); next; next = queue.pop()) {
        const [userId, { lastSeen, rows }] = next;
        // A check failed (most likely the cluster did not answer in CLUSTER_TIMEOUT_MS): the others
        // would wait as long each, so they are put back for the next sweep untried.
        if (failing) {
          failed.push(...rows);
          continue;
        }
        try {
          await presence.leftWithNode(userId, new Date(lastSeen).toISOString());
        } catch (error) {
          failing = true;
          firstError ??= error;
          failed.push(...rows);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
    if (failed.length > 0) await registry.giveBack(failed);
    log.info(
      {
        event: "node_users_checked",
        users: byUser.size,
        failed: failed.length,
        ...(firstError ? { err: firstError } : {}),
      },
      "the users of stopped nodes were checked",
    );
  };
}
