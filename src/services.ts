/**
 * The transport-free services, built once at start-up and handed to every transport. Services that
 * reach clients get the delivery port, which the realtime layer builds first; services that care
 * about sockets coming and going add themselves to `connectionListeners`.
 */
import type { Config } from "./config";
import type { Store } from "./db/client";
import { type Chat, createChat } from "./domain/chat";
import { type Connections, createConnections } from "./domain/connections";
import type { ConnectionListener } from "./domain/connections/events";
import type { Delivery } from "./domain/delivery";
import { createDirect, type Direct } from "./domain/direct";
import { createDispatch, type Dispatch } from "./domain/dispatch";
import { createFriends, type Friends } from "./domain/friends";
import { type InstanceInfo, loadInstance } from "./domain/instance";
import { createNodes, type Nodes } from "./domain/nodes";
import { createPostbacks, type PostbackObserver, type Postbacks } from "./domain/postbacks";
import { createPresence, type Presence } from "./domain/presence";
import { createReceipts, type Receipts } from "./domain/receipts";
import { createRooms, type Rooms } from "./domain/rooms";
import { createStatus, type Status } from "./domain/status";
import { createDynamicEvents, createSubscribers, type DynamicEvents, type Subscribers } from "./domain/subscribers";
import { createTokenService, type TokenService } from "./domain/tokens";
import { createTyping, type Typing } from "./domain/typing";
import type { Logger } from "./observability/logger";

export interface Services {
  tokens: TokenService;
  instance: InstanceInfo;
  connections: Connections;
  /** Told when sockets connect and disconnect (presence, typing, rooms, the offline queue). */
  connectionListeners: ConnectionListener[];
  friends: Friends;
  presence: Presence;
  /** This node among the others: its heartbeat, and the users of nodes that died (the server starts and stops it). */
  nodes: Nodes;
  typing: Typing;
  /** Direct messages (seed 002), with the offline queue. */
  direct: Direct;
  /** Joining and leaving rooms, and who is in them (seed 000). */
  rooms: Rooms;
  /** Room messages and their history (seed 001). */
  chat: Chat;
  /** Delivery and read receipts of room messages (seed 001). */
  receipts: Receipts;
  /** The registry of run-time event names (seed 000's subscribers). */
  subscribers: Subscribers;
  /** Clients emitting a registered name (seed 000's dynamic events). */
  dynamicEvents: DynamicEvents;
  /** Backends reaching clients: events to channels and users (seed 003), messages and notifications (seed 004). */
  dispatch: Dispatch;
  /** Who is connected, a user's status, channel counts, socket health, disconnecting a user (seeds 001, 003, 004). */
  status: Status;
  /** The durable postback queue and its scheduler (seed 003); the server starts and stops it. */
  postbacks: Postbacks;
}

export interface ServiceOptions {
  /** Where the postback scheduler logs its attempts; silent when left out. */
  log?: Logger;
  /** Metrics of the postback scheduler. */
  postbackObserver?: PostbackObserver;
}

const silent = { info() {}, warn() {}, error() {} };

export async function createServices(
  config: Config,
  store: Store,
  delivery: Delivery,
  options: ServiceOptions = {},
): Promise<Services> {
  const tokens = createTokenService({
    secret: config.jwtSecret,
    defaultExpiresInSeconds: config.jwtExpiresInSeconds,
    requireExp: config.jwtRequireExp,
    clockToleranceSeconds: config.jwtClockToleranceSeconds,
    jwks: config.jwksUrl === undefined ? undefined : { url: config.jwksUrl },
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
  });
  const connections = createConnections(delivery);
  const friends = createFriends(store);
  const presence = createPresence({
    store,
    delivery,
    friends,
    presencePublic: config.chat.presencePublic,
  });
  const nodes = createNodes({
    store,
    presence,
    deadAfterMs: config.nodeDeadAfterMs,
    log: options.log ?? silent,
  });
  const typing = createTyping({ delivery, timeoutMs: config.chat.typingTimeoutMs });
  const direct = createDirect({ store, delivery, maxMessageChars: config.chat.maxMessageChars });
  const rooms = createRooms({ delivery });
  const chat = createChat({
    store,
    delivery,
    maxMessageChars: config.chat.maxMessageChars,
  });
  const receipts = createReceipts({ store, delivery });
  const dispatch = createDispatch({ delivery });
  const status = createStatus({ delivery, presence });
  const subscribers = await createSubscribers(store, options.log);
  const postbacks = createPostbacks({
    store,
    settings: config.postbacks,
    log: options.log ?? silent,
    ...(options.postbackObserver ? { observer: options.postbackObserver } : {}),
  });
  const connectionListeners: ConnectionListener[] = [
    nodes.listener,
    presence.listener,
    typing.listener,
    direct.listener,
    rooms.listener,
  ];

  return {
    tokens,
    instance: await loadInstance(store),
    connections,
    connectionListeners,
    friends,
    presence,
    nodes,
    typing,
    direct,
    rooms,
    chat,
    receipts,
    subscribers,
    dynamicEvents: createDynamicEvents({
      subscribers,
      delivery,
      forward: (url, payload) => postbacks.enqueueInternal(url, payload),
    }),
    dispatch,
    status,
    postbacks,
  };
}
