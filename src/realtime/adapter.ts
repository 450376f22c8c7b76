/**
 * The one place that chooses the Socket.IO adapter. Everything else emits to rooms and never
 * depends on which adapter carries them.
 */
import type { Config } from "../config";
import type { AppServer } from "./types";

export function applyAdapter(_io: AppServer, adapter: Config["socket"]["adapter"]): void {
  switch (adapter) {
    case "memory":
      return; // socket.io's built-in in-memory adapter
  }
}
