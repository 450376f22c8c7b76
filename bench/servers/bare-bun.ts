/**
 * Baseline: bare socket.io on Bun (@socket.io/bun-engine) behind the same Elysia mount as the gateway,
 * with an HS256 JWT check on connect and no gateway logic: `ping` acks the time, `room:join` joins,
 * `message:send` broadcasts `message:new` to the room's others and acks (no storage), and
 * `POST /api/socket/dispatch` (Bearer API token) emits to a room: scenario 4's bare Elysia route.
 */
import "./gc";
import { Server as Engine } from "@socket.io/bun-engine";
import { Elysia } from "elysia";
import { jwtVerify } from "jose";
import { Server } from "socket.io";
import { API_TOKEN, JWT_SECRET } from "../lib/common";

const key = new TextEncoder().encode(JWT_SECRET);
const engine = new Engine({ path: "/socket.io/", pingInterval: 25000, pingTimeout: 20000 });
const io = new Server();
io.bind(engine);

io.use(async (socket, next) => {
  try {
    const { payload } = await jwtVerify(String(socket.handshake.auth?.token), key, { algorithms: ["HS256"] });
    socket.data.userId = payload.sub;
    next();
  } catch {
    next(new Error("unauthorized"));
  }
});

type Ack = ((v: unknown) => void) | undefined;
io.on("connection", (socket) => {
  socket.on("ping", (_p: unknown, ack: Ack) => ack?.({ success: true, data: { timestamp: new Date().toISOString() } }));
  socket.on("room:join", (p: { roomId: string }, ack: Ack) => {
    socket.join(p.roomId);
    ack?.({ success: true, data: { roomId: p.roomId } });
  });
  socket.on("message:send", (p: { roomId: string; content: string }, ack: Ack) => {
    const message = { roomId: p.roomId, content: p.content, userId: socket.data.userId };
    socket.to(p.roomId).emit("message:new", message);
    ack?.({ success: true, data: message });
  });
});

const app = new Elysia()
  .all("/socket.io/", ({ request, server }) => engine.handleRequest(request, server as never))
  .post("/api/socket/dispatch", ({ body, headers, set }) => {
    if (headers.authorization !== `Bearer ${API_TOKEN}`) {
      set.status = 401;
      return { success: false };
    }
    const { channel, event, data } = body as { channel: string; event: string; data: unknown };
    io.to(channel).emit(event, data);
    return { success: true };
  })
  .listen({ hostname: "127.0.0.1", port: Number(process.env.PORT ?? 0), reusePort: false, ...engine.handler() });

console.log(JSON.stringify({ event: "listening", port: app.server?.port }));
