/** A raw HTTP/1.1 exchange over TCP, for what fetch cannot send (chunked bodies written by hand). */

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Writes `parts` in order (pausing between them), then reads until the server closes or `ms` pass. */
export async function rawRequest(url: string, parts: (string | Uint8Array)[], ms = 3000): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  let received = "";
  let settle: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const socket = await Bun.connect({
    hostname,
    port: Number(port),
    socket: {
      data(_s, data) {
        received += data.toString();
        if (complete(received)) settle();
      },
      close: () => settle(),
      error: () => settle(),
    },
  });
  for (const part of parts) {
    if (socket.readyState !== 1) break;
    socket.write(part);
    await Bun.sleep(20);
  }
  await Promise.race([closed, Bun.sleep(ms)]);
  socket.end();
  return parse(received);
}

/** A whole response with a Content-Length has arrived (the server may keep the connection open). */
function complete(text: string): boolean {
  const split = text.indexOf("\r\n\r\n");
  if (split === -1) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, split))?.[1];
  return length !== undefined && Buffer.byteLength(text.slice(split + 4)) >= Number(length);
}

function parse(text: string): RawResponse {
  const split = text.indexOf("\r\n\r\n");
  const head = split === -1 ? text : text.slice(0, split);
  let body = split === -1 ? "" : text.slice(split + 4);
  const [statusLine = "", ...lines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  if (headers["transfer-encoding"] === "chunked") body = dechunk(body);
  return { status: Number(statusLine.split(" ")[1] ?? 0), headers, body };
}

function dechunk(text: string): string {
  let out = "";
  let rest = text;
  for (;;) {
    const eol = rest.indexOf("\r\n");
    if (eol === -1) return out;
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (!size) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 4 + size);
  }
}

/** One chunk of a chunked body. */
export const chunk = (data: string) => `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`;
