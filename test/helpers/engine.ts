/** Raw Engine.IO traffic, for tests that play a misbehaving client below socket.io-client. */

/** Opens a long-polling session without connecting to any namespace. */
export async function pollingHandshake(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers });
  const text = await res.text();
  const sid = res.ok ? (JSON.parse(text.slice(1)) as { sid: string }).sid : undefined;
  return { res, text, sid };
}

/** Sends Engine.IO packets on a polling session (records separated by \x1e). */
export function pollingSend(url: string, sid: string, packets: string[]) {
  return fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
    method: "POST",
    headers: { "content-type": "text/plain;charset=UTF-8" },
    body: packets.join("\x1e"),
  });
}

/** One poll: what the server has queued for the session (400 once the session is gone). */
export function poll(url: string, sid: string) {
  return fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`);
}

/** A raw WebSocket Engine.IO session; resolves once the server's open packet arrived. */
export function rawWebSocket(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`, {
    headers,
  } as never);
  const messages: (string | ArrayBuffer)[] = [];
  const closed = new Promise<number>((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
  const opened = new Promise<boolean>((resolve) => {
    ws.addEventListener("message", (e) => {
      messages.push(e.data as string);
      if (typeof e.data === "string" && e.data.startsWith("0")) resolve(true);
      if (e.data === "2") ws.send("3"); // answer pings, so only our own limits close it
    });
    ws.addEventListener("error", () => resolve(false));
    ws.addEventListener("close", () => resolve(false));
  });
  return { ws, opened, closed, messages };
}
