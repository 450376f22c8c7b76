/**
 * The typed SDK: `connect()` is a socket.io-client typed by the generated event maps;
 * `createAdminClient()` is a tRPC client typed by the router built from the operations table.
 *
 *   import { connect, createAdminClient } from "switchboard/client";
 */
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import type {
  ClientToServerEvents,
  InternalClientToServerEvents,
  InternalServerToClientEvents,
  ServerToClientEvents,
} from "../../generated/events";
import type { AdminRouter } from "../http/trpc";

export type * from "../../generated/events";
export type { AdminRouter };

export type SwitchboardSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
/** A backend service's socket on the `/internal` namespace. */
export type InternalSocket = Socket<InternalServerToClientEvents, InternalClientToServerEvents>;

/** Opens a socket to a Switchboard server; the JWT goes in the handshake's `auth.token`. */
export function connect(
  url: string,
  options: { token: string } & Partial<ManagerOptions & SocketOptions>,
): SwitchboardSocket {
  const { token, auth, ...rest } = options;
  return io(url, { ...rest, auth: { ...(typeof auth === "object" ? auth : {}), token } });
}

/**
 * Opens a backend service's socket to the `/internal` namespace (seed 002's internal gateway), with
 * the API_TOKEN or an admin JWT; `send_message` acks in seed 002's own shape.
 */
export function connectInternal(
  url: string,
  options: { token: string } & Partial<ManagerOptions & SocketOptions>,
): InternalSocket {
  const { token, auth, ...rest } = options;
  return io(`${url.replace(/\/$/, "")}/internal`, {
    ...rest,
    auth: { ...(typeof auth === "object" ? auth : {}), token },
  });
}

/**
 * A tRPC client for the admin API (`client.jwt.create.mutate({ userId })`). `apiToken`: the API_TOKEN
 * or an admin JWT; for the operations that act for a user (`auth: "user"`), that user's own JWT.
 */
export function createAdminClient(options: { url: string; apiToken: string }) {
  return createTRPCClient<AdminRouter>({
    links: [
      httpBatchLink({
        url: `${options.url.replace(/\/$/, "")}/trpc`,
        headers: { authorization: `Bearer ${options.apiToken}` },
      }),
    ],
  });
}

export type AdminClient = ReturnType<typeof createAdminClient>;
