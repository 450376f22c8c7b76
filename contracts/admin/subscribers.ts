/**
 * Subscribers (seed 000): event names that clients may emit at run time (dynamic events), one
 * subscriber per name. Paths, fields and messages are seed 000's; `postbackUrl` is ours.
 */
import { z } from "zod";
import { operation } from "../operation";

export const EventListener = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9:_.-]+$/, { error: "Only letters, digits and `:_.-` are allowed" })
  .meta({
    description:
      "The Socket.IO event name clients emit: 1-64 characters of `A-Za-z0-9:_.-`. Not an event declared in " +
      "asyncapi.yaml (409 CONFLICT) nor a reserved Socket.IO name such as `connect` or `disconnect` (400)",
    example: "customEvent",
  });

const Replicable = z.boolean().meta({
  description:
    "true: the event goes to the other sockets of the room named by its `roomId`; false: it is never sent to " +
    "another client (the backend alone handles it)",
});

const Description = z.string().max(1000).meta({ description: "What the event is for" });

const PostbackUrl = z
  .url({ protocol: /^https?$/, error: "Must be an http(s) URL" })
  .max(2048)
  .meta({ description: "Where accepted events are forwarded (POST) by the postback worker; http(s)" });

const SubscriberId = z
  .uuid()
  .meta({ description: "The subscriber id (UUIDv7)", example: "01936d3e-7c2a-7000-8000-000000000003" });

export const Subscriber = z
  .object({
    id: z.string(),
    eventListener: z.string(),
    replicable: z.boolean(),
    description: z.string().nullable().meta({ description: "null when none was given" }),
    postbackUrl: z.string().nullable().meta({ description: "null when none was given" }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: "Subscriber", description: "A registered dynamic event (seed 000)" });

/** Seed 000's documented subscriber, with a real id. */
const example = {
  id: "01936d3e-7c2a-7000-8000-000000000003",
  eventListener: "customEvent",
  replicable: true,
  description: "Custom event handler",
  postbackUrl: null,
  createdAt: "2024-01-01T00:00:00.000Z",
  updatedAt: "2024-01-01T00:00:00.000Z",
};

export const upsertSubscriber = operation({
  name: "subscribers.upsert",
  method: "POST",
  path: "/subscribers",
  auth: "admin",
  summary: "Register a dynamic event, or replace the subscriber with the same eventListener",
  description:
    "Clients may emit `eventListener` as soon as this answers (no restart). When a subscriber with the same " +
    "`eventListener` exists it is replaced (same id and createdAt; fields left out are cleared) and " +
    "`wasUpdated` is true. `replicable` defaults to false.",
  input: z.object({
    eventListener: EventListener,
    replicable: Replicable.default(false),
    description: Description.nullable().optional(),
    postbackUrl: PostbackUrl.nullable().optional(),
  }),
  output: Subscriber.extend({
    message: z.string().meta({
      example: "Subscriber created successfully",
      description:
        "`Subscriber created successfully`, or `Subscriber updated (replaced existing subscriber with same eventListener)`",
    }),
    wasUpdated: z.boolean().meta({ description: "true: an existing subscriber with this eventListener was replaced" }),
  }),
  example: {
    input: { eventListener: "customEvent", replicable: true, description: "Custom event handler for notifications" },
    output: {
      ...example,
      description: "Custom event handler for notifications",
      message: "Subscriber created successfully",
      wasUpdated: false,
    },
  },
});

export const listSubscribers = operation({
  name: "subscribers.list",
  method: "GET",
  path: "/subscribers",
  auth: "admin",
  summary: "Every subscriber, oldest first",
  input: z.object({}),
  output: z.array(Subscriber),
  example: { input: {}, output: [example] },
});

export const getSubscriber = operation({
  name: "subscribers.get",
  method: "GET",
  path: "/subscribers/:id",
  auth: "admin",
  summary: "One subscriber, by id (404 when there is none)",
  input: z.object({ id: SubscriberId }),
  output: Subscriber,
  example: { input: { id: example.id }, output: example },
});

export const updateSubscriber = operation({
  name: "subscribers.update",
  method: "PUT",
  path: "/subscribers/:id",
  auth: "admin",
  summary: "Change a subscriber: the fields sent, the others are kept",
  description:
    "404 when there is no such subscriber; 409 when the new `eventListener` belongs to another subscriber or is a " +
    "declared event; 400 when nothing is sent. `null` clears `description` or `postbackUrl`. Applies at once.",
  input: z.object({
    id: SubscriberId,
    eventListener: EventListener.optional(),
    replicable: Replicable.optional(),
    description: Description.nullable().optional(),
    postbackUrl: PostbackUrl.nullable().optional(),
  }),
  output: Subscriber,
  example: {
    input: { id: example.id, eventListener: "updatedEvent", replicable: false, description: "Updated description" },
    output: { ...example, eventListener: "updatedEvent", replicable: false, description: "Updated description" },
  },
});

export const deleteSubscriber = operation({
  name: "subscribers.delete",
  method: "DELETE",
  path: "/subscribers/:id",
  auth: "admin",
  summary: "Remove a subscriber: its event is unknown from now on (404 when there is none)",
  input: z.object({ id: SubscriberId }),
  output: z.object({ success: z.literal(true), message: z.string() }),
  example: { input: { id: example.id }, output: { success: true, message: "Subscriber deleted successfully" } },
});

export const subscribersByEvent = operation({
  name: "subscribers.byEvent",
  method: "GET",
  path: "/subscribers/event/:eventListener",
  auth: "admin",
  summary: "The subscribers of one event name: at most one (an empty list when none)",
  input: z.object({ eventListener: EventListener }),
  output: z.array(Subscriber),
  example: { input: { eventListener: "customEvent" }, output: [example] },
});

export const deleteAllSubscribers = operation({
  name: "subscribers.deleteAll",
  method: "DELETE",
  path: "/subscribers",
  auth: "admin",
  summary: "Remove every subscriber: no dynamic event is known from now on",
  input: z.object({}),
  output: z.object({
    success: z.literal(true),
    message: z.string().meta({ example: "Successfully deleted 5 subscribers" }),
    deletedCount: z.number().int().min(0),
  }),
  example: { input: {}, output: { success: true, message: "Successfully deleted 5 subscribers", deletedCount: 5 } },
});
