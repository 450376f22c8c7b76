/**
 * Gateway nodes, so that one dying without a graceful shutdown (SIGKILL, a lost machine) does not
 * leave its users online for their friends forever (issue 11).
 *
 * - Each start of a node has an id of its own and a row in `gateway_nodes`; `node_users` lists the
 *   users it holds sockets for (holdings.ts).
 * - PostgreSQL (nodes share the database): each node beats every NODE_DEAD_AFTER_MS / 3, then sweeps
 *   (one sweep at a time, beside the heartbeat: a sweep waiting on the cluster never delays a beat):
 *   it deletes the rows of nodes silent for NODE_DEAD_AFTER_MS and, in the same transaction, the
 *   `node_users` rows left without a node (registry.ts: each row goes to exactly one node). Each of
 *   those users goes through presence (`leftWithNode`): its devices are counted across the cluster,
 *   and unless one is left friends are told it went offline, once cluster-wide (the compare-and-set
 *   on `user_presence.announced`), with `lastSeen` the dead node's last heartbeat. A user whose check
 *   fails (the cluster does not answer) is put back for the next sweep.
 * - SQLite (one node per database file): nobody else can sweep, and nothing runs periodically: at
 *   start-up, before anyone connects, the rows the previous run left (it crashed) are resolved the
 *   same way, with `lastSeen` the time of the restart.
 * - A node that was only slow (taken for dead, then beating again) finds its row gone: it registers
 *   again and writes back every user it holds. It answered the counts meanwhile, so nobody was told.
 * - A graceful stop writes the last changes and removes the node's row.
 */
import type { Store } from "../../db/client";
import type { Presence } from "../presence";
import { createHoldings } from "./holdings";
import { createRegistry, type HeldUser } from "./registry";

interface LogLike {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface NodesDeps {
  store: Store;
  presence: Pick<Presence, "leftWithNode">;
  /** NODE_DEAD_AFTER_MS: a node silent this long is taken for dead (PostgreSQL). */
  deadAfterMs: number;
  log: LogLike;
}

/** Users checked at once by a sweep (each check asks every node). */
const CONCURRENCY = 16;

export function createNodes({ store, presence, deadAfterMs, log }: NodesDeps) {
  const id = Bun.randomUUIDv7();
  const shared = store.dialect === "postgres";
  const registry = createRegistry(store, id);
  const holdings = createHoldings({
    store,
    nodeId: id,
    onError: (err) => log.error({ err, event: "node_users_write_failed" }, "could not record the users on this node"),
  });
  const everyMs = Math.max(100, Math.floor(deadAfterMs / 3));
  let timer: Timer | undefined;
  let running = false;
  /** The heartbeat and the sweep in progress, which stop waits for. */
  let ticking: Promise<void> = Promise.resolve();
  let sweeping: Promise<void> | undefined;

  /** Takes the dead nodes' users and tells their friends (a failed check is put back for later). */
  async function sweep(cutoff: number): Promise<void> {
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
      const seen = shared ? (lastBeat.get(row.nodeId) ?? now) : now;
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
  }

  async function beat(): Promise<void> {
    await holdings.flush(); // anything a failed write left
    if (!(await registry.beat())) {
      log.warn({ event: "node_reregistered", nodeId: id }, "this node had been taken for dead: registered again");
      await registry.register(new Date().toISOString());
      await holdings.republish();
    }
  }

  /** One sweep at a time, never in the heartbeat's way: one waiting on the cluster must not make this node look dead. */
  function startSweep() {
    sweeping ??= sweep(Date.now() - deadAfterMs)
      .catch((err) => log.error({ err, event: "node_sweep_failed" }, "sweeping dead nodes failed"))
      .finally(() => {
        sweeping = undefined;
      });
  }

  function schedule() {
    timer = setTimeout(() => {
      ticking = beat()
        .catch((err) => log.error({ err, event: "node_heartbeat_failed" }, "heartbeat failed"))
        .finally(() => {
          if (!running) return;
          startSweep();
          schedule();
        });
    }, everyMs);
    timer.unref();
  }

  return {
    /** This node's id (new at every start). */
    id,
    /** Counts this node's sockets per user (first in the listeners: the row is queued before presence tells anyone). */
    listener: holdings.listener,

    /**
     * Registers this node. SQLite: first resolves what a crash of the previous run left (before
     * anyone connects; nothing periodic). PostgreSQL: starts the heartbeat and the sweep.
     */
    async start(): Promise<void> {
      await registry.register(new Date().toISOString());
      if (!shared) {
        await sweep(Number.MAX_SAFE_INTEGER);
        return;
      }
      running = true;
      // The first sweep soon (a cluster restarted after all its nodes died), without delaying start-up.
      schedule();
    },

    /** Stops the heartbeat, writes the last changes and removes this node's row (before the database closes). */
    async stop(): Promise<void> {
      running = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await ticking;
      await sweeping;
      await holdings.close();
      await registry.unregister().catch((err) => log.error({ err }, "could not remove this node's row"));
    },
  };
}

export type Nodes = ReturnType<typeof createNodes>;
