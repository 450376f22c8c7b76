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
import { createRegistry } from "./registry";
import { createSweep, type LogLike } from "./sweep";

export interface NodesDeps {
  store: Store;
  presence: Pick<Presence, "leftWithNode">;
  /** NODE_DEAD_AFTER_MS: a node silent this long is taken for dead (PostgreSQL). */
  deadAfterMs: number;
  log: LogLike;
}

export function createNodes({ store, presence, deadAfterMs, log }: NodesDeps) {
  const id = Bun.randomUUIDv7();
  const shared = store.dialect === "postgres";
  const registry = createRegistry(store, id);
  const holdings = createHoldings({
    store,
    nodeId: id,
    onError: (err) => log.error({ err, event: "node_users_write_failed" }, "could not record the users on this node"),
  });
  const sweep = createSweep({ registry, presence, log, lastSeenFrom: shared ? "heartbeat" : "now" });
  const everyMs = Math.max(100, Math.floor(deadAfterMs / 3));
  let timer: Timer | undefined;
  let running = false;
  /** The heartbeat and the sweep in progress, which stop waits for. */
  let ticking: Promise<void> = Promise.resolve();
  let sweeping: Promise<void> | undefined;

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
        // Not worth refusing to start over: what is left is tried again at the next start.
        await sweep(Number.MAX_SAFE_INTEGER).catch((err) =>
          log.error({ err, event: "node_sweep_failed" }, "resolving what the previous run left failed"),
        );
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
