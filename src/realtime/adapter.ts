/**
 * The one place that chooses the Socket.IO adapter. Everything else emits to rooms and never
 * depends on which adapter carries them.
 * - `bun`: room broadcasts published once through Bun's native WebSocket pub/sub (fanout/); the
 *   stock adapter, with a log saying why, when its start-up self-test fails;
 * - `memory`: socket.io's stock in-memory adapter.
 */
import type { Server as Engine } from "@socket.io/bun-engine";
import type { ServerOptions } from "socket.io";
import { Adapter, SessionAwareAdapter } from "socket.io-adapter";
import type { Config } from "../config";
import type { Logger } from "../observability/logger";
import { fanoutAdapter } from "./fanout/adapter";
import { linkEngine } from "./fanout/engine";
import { fanoutUnsupported } from "./fanout/self-test";

export interface AdapterDeps {
  engine: Engine;
  /** Connection state recovery is on: the adapter keeps broadcasts for replay (SessionAwareAdapter). */
  recovery: boolean;
  log: Logger;
}

/** Whether every socket is on this node with this adapter (the delivery port then reads lists and counts locally). */
export const isSingleNode = (choice: Config["socket"]["adapter"]): boolean => choice === "memory" || choice === "bun";

/** The `adapter` option of `new Server()`; undefined leaves socket.io's default (stock, session-aware with recovery). */
export function socketAdapter(
  choice: Config["socket"]["adapter"],
  { engine, recovery, log }: AdapterDeps,
): ServerOptions["adapter"] | undefined {
  switch (choice) {
    case "memory":
      return undefined;
    case "bun": {
      const unsupported = fanoutUnsupported();
      if (unsupported) {
        log.warn(
          { event: "socket_adapter", adapter: "memory", reason: unsupported },
          "native fan-out off: stock adapter",
        );
        return undefined;
      }
      log.info({ event: "socket_adapter", adapter: "bun" }, "room broadcasts through Bun's pub/sub");
      return fanoutAdapter(recovery ? SessionAwareAdapter : Adapter, linkEngine(engine));
    }
  }
}
