/**
 * Request bodies, read by us rather than by Bun or Elysia: the declared Content-Length is checked
 * before anything is read, and the stream is cut at the limit, so a chunked body (no length) can
 * never make us buffer more than HTTP_MAX_BODY_BYTES. Every refusal is an AppError, so it gets the
 * project's error shape, a request id and an access-log line.
 */
import { AppError } from "../domain/errors";

/**
 * Bun's own `maxRequestBodySize` for the listener. Bun answers a body above it with a bare 413
 * (no shape, no request id, no log), so it is set out of the way; the limits are enforced here
 * instead (and by the Socket.IO route for its own bodies).
 */
export const BUN_MAX_REQUEST_BODY_SIZE = Number.MAX_SAFE_INTEGER;

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

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

/** `application/json`, with or without parameters (`; charset=utf-8`). */
export function isJson(contentType: string | null): boolean {
  return contentType?.split(";", 1)[0]?.trim().toLowerCase() === "application/json";
}

const unsupported = (contentType: string | null) =>
  new AppError(
    "UNSUPPORTED_MEDIA_TYPE",
    contentType
      ? "Body must be JSON: send Content-Type: application/json"
      : "Body has no Content-Type: send Content-Type: application/json",
  );

/** Methods whose body we read; other methods' bodies are ignored (never buffered). */
export const hasBodyMethod = (request: Request) => BODY_METHODS.has(request.method);

/** The body's bytes, at most `limit`: the stream is cancelled as soon as it passes the limit. */
export async function readCapped(request: Request, limit: number): Promise<Uint8Array> {
  const declared = declaredTooLarge(request, limit);
  if (declared) throw declared;
  if (!request.body) return new Uint8Array(0);
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

/**
 * A POST / PUT / PATCH body, which must be JSON when there is one: a declared non-JSON type is
 * refused before reading, an undeclared one once bytes arrive (an empty body is no body).
 */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const type = request.headers.get("content-type");
  if (type !== null && !isJson(type)) throw unsupported(type);
  const bytes = await readCapped(request, limit);
  if (bytes.byteLength > 0 && type === null) throw unsupported(null);
  return bytes;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The body of a POST / PUT / PATCH as parsed JSON, or undefined when there is none (other methods'
 * bodies are not read). BAD_REQUEST for bytes that are not UTF-8 JSON.
 */
export async function readJsonBody(request: Request, limit: number): Promise<unknown> {
  if (!hasBodyMethod(request)) return undefined;
  const bytes = await readBody(request, limit);
  if (bytes.byteLength === 0) return undefined;
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new AppError("BAD_REQUEST", "Body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("BAD_REQUEST", "Body is not valid JSON");
  }
}
