/**
 * The transport-free services, built once at start-up and handed to every transport. Services that
 * reach clients get the delivery port, which the realtime layer builds first.
 */
import type { Config } from "./config";
import type { DatabaseHandle } from "./db/client";
import { type Connections, createConnections } from "./domain/connections";
import type { Delivery } from "./domain/delivery";
import { type InstanceInfo, loadInstance } from "./domain/instance";
import { createTokenService, type TokenService } from "./domain/tokens";

export interface Services {
  tokens: TokenService;
  instance: InstanceInfo;
  connections: Connections;
}

export function createServices(config: Config, database: DatabaseHandle, delivery: Delivery): Services {
  return {
    tokens: createTokenService({
      secret: config.jwtSecret,
      defaultExpiresInSeconds: config.jwtExpiresInSeconds,
      requireExp: config.jwtRequireExp,
      clockToleranceSeconds: config.jwtClockToleranceSeconds,
    }),
    instance: loadInstance(database.db),
    connections: createConnections(delivery),
  };
}
