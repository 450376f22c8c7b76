import type {
  deleteAllSubscribers,
  deleteSubscriber,
  getSubscriber,
  listSubscribers,
  subscribersByEvent,
  updateSubscriber,
  upsertSubscriber,
} from "../../../contracts/admin/subscribers";
import { MESSAGES } from "../../domain/subscribers";
import type { Services } from "../../services";
import type { OperationFn } from "./run";

export const subscriberOperations = ({ subscribers }: Services) => ({
  "subscribers.upsert": (async (input) => {
    const { subscriber, wasUpdated } = await subscribers.upsert(input);
    return { ...subscriber, message: wasUpdated ? MESSAGES.replaced : MESSAGES.created, wasUpdated };
  }) satisfies OperationFn<typeof upsertSubscriber>,
  "subscribers.list": (() => subscribers.list()) satisfies OperationFn<typeof listSubscribers>,
  "subscribers.get": (({ id }) => subscribers.get(id)) satisfies OperationFn<typeof getSubscriber>,
  "subscribers.update": (({ id, ...changes }) => subscribers.update(id, changes)) satisfies OperationFn<
    typeof updateSubscriber
  >,
  "subscribers.delete": (async ({ id }) => {
    await subscribers.delete(id);
    return { success: true as const, message: MESSAGES.deleted };
  }) satisfies OperationFn<typeof deleteSubscriber>,
  "subscribers.byEvent": (({ eventListener }) => subscribers.byEvent(eventListener)) satisfies OperationFn<
    typeof subscribersByEvent
  >,
  "subscribers.deleteAll": (async () => {
    const deletedCount = await subscribers.deleteAll();
    return { success: true as const, message: MESSAGES.deletedAll(deletedCount), deletedCount };
  }) satisfies OperationFn<typeof deleteAllSubscribers>,
});
