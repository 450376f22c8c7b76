/**
 * Request bodies read with a byte cap: the declared Content-Length is checked before anything is
 * read, and the stream is cancelled as soon as it passes the limit, so a chunked body can never make
 * us buffer more than the limit. Used by the HTTP routes and by the Socket.IO polling route.
 */
import { AppError } from "../errors";

export const tooLarge = (limit: number, size?: number) =>
  new AppError(
    "PAYLOAD_TOO_LARGE",
    size === undefined
      ? `Body is over the limit of ${limit} bytes`
      : `Body of ${size} bytes is over the limit of ${limit}`,
  );

/** The declared length, when there is one and it is over the limit (checked before routing). */
export function declaredTooLarge(request: Request, limit: number): AppError | undefined {
  const length = Number(request.headers.get("content-length") ?? 0);
  return length > limit ? tooLarge(limit, length) : undefined;
}

/** The body's bytes, at most `limit`: the stream is cancelled as soon as it passes the limit. */
export async function readCapped(request: Request, limit: number): Promise<Uint8Array> {
  const declared = declaredTooLarge(request, limit);
  if (declared) throw declared;
  if (!request.body) return new Uint8Array(0);
  // A declared length (within the limit) frames the body: Bun reads exactly that much, natively,
  // which costs far less than pulling a stream chunk by chunk. Chunked bodies are read capped below.
  if (request.headers.has("content-length") && !request.headers.has("transfer-encoding")) {
    return new Uint8Array(await request.arrayBuffer());
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks, size);
}
