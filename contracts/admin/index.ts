/**
 * The admin API: every operation, in one table. REST routes, the OpenAPI document, the tRPC
 * router and the typed admin client are generated from it; add an entry here to add an operation.
 */
import { dispatchEvent, messageBroadcast, messageUser, messageUsers, sendNotification } from "./dispatch";
import { addFriend, listFriends, removeFriend } from "./friends";
import { createToken, decodeToken, verifyToken } from "./jwt";
import { cancelPostback, enqueuePostback, getPostback, listPostbacks, postbackStats, retryPostback } from "./postbacks";
import { channelStats, socketHealth, socketStats } from "./sockets";
import {
  deleteAllSubscribers,
  deleteSubscriber,
  getSubscriber,
  listSubscribers,
  subscribersByEvent,
  updateSubscriber,
  upsertSubscriber,
} from "./subscribers";
import { connectedUsers, disconnectUser, myStatus, userStatus } from "./users";

/**
 * Raise the major version for a breaking change (while it is 0, the minor): contracts:check refuses
 * one otherwise. Every commit on main is judged against its parent.
 */
export const adminApi = {
  title: "Switchboard admin API",
  version: "0.3.0",
  description:
    "Reach end users from a backend. Every operation is served as REST (this document) and as tRPC at /trpc " +
    "(procedure = operationId). Errors: `{ success: false, error: { code, message, details? } }`.",
} as const;

export const operations = [
  createToken,
  verifyToken,
  decodeToken,
  socketStats,
  channelStats,
  socketHealth,
  dispatchEvent,
  messageUser,
  messageUsers,
  messageBroadcast,
  sendNotification,
  connectedUsers,
  userStatus,
  myStatus,
  disconnectUser,
  addFriend,
  removeFriend,
  listFriends,
  upsertSubscriber,
  listSubscribers,
  getSubscriber,
  updateSubscriber,
  deleteSubscriber,
  subscribersByEvent,
  deleteAllSubscribers,
  enqueuePostback,
  getPostback,
  listPostbacks,
  retryPostback,
  cancelPostback,
  postbackStats,
] as const;

export type Operations = typeof operations;
export type OperationName = Operations[number]["name"];
