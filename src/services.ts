/** The transport-free services, built once at start-up and handed to every transport. */
import type { Config } from "./config";
import type { DatabaseHandle } from "./db/client";
import { type InstanceInfo, loadInstance } from "./domain/instance";
import { createTokenService, type TokenService } from "./domain/tokens";

export interface Services {
  tokens: TokenService;
  instance: InstanceInfo;
}

export function createServices(config: Config, database: DatabaseHandle): Services {
  return {
    tokens: createTokenService({ secret: config.jwtSecret, defaultExpiresInSeconds: config.jwtExpiresInSeconds }),
    instance: loadInstance(database.db),
  };
}
