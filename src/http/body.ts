/**
 * Request bodies, read by us rather than by Bun or Elysia: the declared Content-Length is checked
 * before anything is read, and the stream is cut at the limit, so a chunked body (no length) can
 * never make us buffer more than HTTP_MAX_BODY_BYTES. Every refusal is an AppError, so it gets the
 * project's error shape, a request id and an access-log line.
 */
import { AppError } from "../domain/errors";
import { readCapped } from "../domain/limits/body";

/**
 * Bun's own `maxRequestBodySize` for the listener. Bun answers a body above it with a bare 413
 * (no shape, no request id, no log), so it is set out of the way; the limits are enforced here
 * instead (and by the Socket.IO route for its own bodies).
 */
export const BUN_MAX_REQUEST_BODY_SIZE = Number.MAX_SAFE_INTEGER;

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

/** `application/json`, with or without parameters (`; charset=utf-8`). */
export function isJson(contentType: string | null): boolean {
  if (contentType === "application/json") return true; // what most clients send, checked first
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

/** JSON from UTF-8 bytes; undefined for none. BAD_REQUEST for bytes that are not UTF-8 JSON. */
function parseJson(bytes: Uint8Array, type: string | null): unknown {
  if (bytes.byteLength === 0) return undefined;
  if (type === null) throw unsupported(null);
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

/**
 * The body of a POST / PUT / PATCH as parsed JSON, or undefined when there is none (other methods'
 * bodies are not read: undefined at once, no promise). BAD_REQUEST for bytes that are not UTF-8
 * JSON. One promise per body (the read), not one per layer: this is every admin call's path.
 */
export function readJsonBody(request: Request, limit: number): Promise<unknown> | undefined {
  if (!hasBodyMethod(request)) return undefined;
  const type = request.headers.get("content-type");
  if (type !== null && !isJson(type)) throw unsupported(type);
  return readCapped(request, limit).then((bytes) => parseJson(bytes, type));
}
