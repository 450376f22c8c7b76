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

/**
 * The body's bytes, at most `limit`: the stream is cancelled as soon as it passes the limit. A
 * refusal before reading (declared length over the limit) is thrown at once; later ones reject.
 */
export function readCapped(request: Request, limit: number): Promise<Uint8Array> {
  const length = request.headers.get("content-length");
  if (length !== null && Number(length) > limit) throw tooLarge(limit, Number(length));
  // A declared length (within the limit) frames the body: Bun reads exactly that much, natively,
  // which costs far less than pulling a stream chunk by chunk (nor is `request.body`, a stream,
  // made for it). Chunked bodies are read capped below.
  if (length !== null && !request.headers.has("transfer-encoding")) return request.bytes();
  const body = request.body;
  if (!body) return Promise.resolve(new Uint8Array(0));
  return readStream(body, limit);
}

async function readStream(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const reader = body.getReader();
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
