/**
 * Baseline: native Bun WebSockets, the physical limit of this runtime. It speaks just enough of
 * Engine.IO v4 / Socket.IO v5 for the same load generator (open packet, `40` connect with an HS256 JWT
 * check, `42` events with `43` acks, ping/pong), and does the work with Bun's own primitives:
 * `ws.subscribe` for rooms, `ws.publish` / `server.publish` for broadcasts, a JSON echo for acks.
 */
import "./gc";
import { jwtVerify } from "jose";
import { API_TOKEN, JWT_SECRET } from "../lib/common";

const key = new TextEncoder().encode(JWT_SECRET);
interface Data {
  sid: string;
  userId?: string;
}
let nextSid = 0;
const OPEN = (sid: string) =>
  `0${JSON.stringify({ sid, upgrades: [], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1000000 })}`;

const server = Bun.serve<Data>({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  async fetch(request, srv) {
    const url = new URL(request.url);
    if (url.pathname === "/socket.io/") {
      if (srv.upgrade(request, { data: { sid: `s${++nextSid}` } })) return undefined;
      return new Response("websocket only", { status: 400 });
    }
    if (url.pathname === "/api/socket/dispatch" && request.method === "POST") {
      if (request.headers.get("authorization") !== `Bearer ${API_TOKEN}`) return new Response(null, { status: 401 });
      const { channel, event, data } = (await request.json()) as { channel: string; event: string; data: unknown };
      srv.publish(channel, `42${JSON.stringify([event, data])}`);
      return Response.json({ success: true });
    }
    return new Response("not found", { status: 404 });
  },
  websocket: {
    open(ws) {
      ws.send(OPEN(ws.data.sid));
    },
    async message(ws, raw) {
      const msg = typeof raw === "string" ? raw : raw.toString();
      if (msg === "3") return;
      if (msg.startsWith("40")) {
        try {
          const auth = JSON.parse(msg.slice(2) || "{}") as { token?: string };
          const { payload } = await jwtVerify(String(auth.token), key, { algorithms: ["HS256"] });
          ws.data.userId = payload.sub;
          ws.send(`40{"sid":"${ws.data.sid}"}`);
        } catch {
          ws.send('44{"message":"unauthorized"}');
        }
        return;
      }
      if (!msg.startsWith("42") || !ws.data.userId) return;
      const open = msg.indexOf("[");
      const id = msg.slice(2, open);
      const [event, p] = JSON.parse(msg.slice(open)) as [string, { roomId?: string; content?: string }];
      let reply: unknown = { success: true };
      if (event === "ping") reply = { success: true, data: { timestamp: new Date().toISOString() } };
      else if (event === "room:join" && p.roomId) {
        ws.subscribe(p.roomId);
        reply = { success: true, data: { roomId: p.roomId } };
      } else if (event === "message:send" && p.roomId) {
        const message = { roomId: p.roomId, content: p.content, userId: ws.data.userId };
        ws.publish(p.roomId, `42${JSON.stringify(["message:new", message])}`);
        reply = { success: true, data: message };
      }
      if (id) ws.send(`43${id}${JSON.stringify([reply])}`);
    },
  },
});

console.log(JSON.stringify({ event: "listening", port: server.port }));
