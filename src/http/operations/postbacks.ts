import type {
  cancelPostback,
  enqueuePostback,
  getPostback,
  listPostbacks,
  postbackStats,
  retryPostback,
} from "../../../contracts/admin/postbacks";
import { IdempotencyKey } from "../../../contracts/admin/postbacks";
import { fieldIssues, invalidInput } from "../../domain/errors";
import { MESSAGES } from "../../domain/postbacks";
import type { Services } from "../../services";
import type { OperationContext, OperationFn } from "./run";

/** The key from the `Idempotency-Key` header or the field; both must agree when both are sent. */
function idempotencyKeyOf(field: string | undefined, ctx: OperationContext): string | undefined {
  if (ctx.idempotencyKey === undefined) return field;
  const header = IdempotencyKey.safeParse(ctx.idempotencyKey);
  if (!header.success) throw invalidInput(fieldIssues(header.error.issues, "Idempotency-Key"));
  if (field !== undefined && field !== header.data) {
    throw invalidInput([{ path: "idempotencyKey", message: "Differs from the Idempotency-Key header" }]);
  }
  return header.data;
}

export const postbackOperations = ({ postbacks }: Services) => ({
  "postbacks.enqueue": (async (input, ctx) => {
    const { queueId } = await postbacks.enqueue({
      ...input,
      idempotencyKey: idempotencyKeyOf(input.idempotencyKey, ctx),
    });
    return { success: true as const, message: MESSAGES.queued, queueId };
  }) satisfies OperationFn<typeof enqueuePostback>,
  "postbacks.get": (({ id }) => postbacks.get(id)) satisfies OperationFn<typeof getPostback>,
  "postbacks.list": ((input) => postbacks.list(input)) satisfies OperationFn<typeof listPostbacks>,
  "postbacks.retry": (({ id }) => postbacks.retry(id)) satisfies OperationFn<typeof retryPostback>,
  "postbacks.cancel": (({ id }) => postbacks.cancel(id)) satisfies OperationFn<typeof cancelPostback>,
  "postbacks.stats": (() => postbacks.stats()) satisfies OperationFn<typeof postbackStats>,
});
