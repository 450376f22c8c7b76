/**
 * Baseline: socket.io on Node (plain `http` server), doing what bare-bun.ts does: JWT check on connect,
 * `ping` ack, `room:join`, `message:send` (broadcast + ack), `POST /api/socket/dispatch`.
 * SIGUSR2 = full GC (run with --expose-gc).
 */
import { createServer } from "node:http";
import { jwtVerify } from "jose";
import { Server } from "socket.io";

const API_TOKEN = process.env.API_TOKEN;
const key = new TextEncoder().encode(process.env.JWT_SECRET);

const http = createServer((req, res) => {
  if (req.method === "POST" && req.url === "/api/socket/dispatch") {
    if (req.headers.authorization !== `Bearer ${API_TOKEN}`) {
      res.writeHead(401).end();
      return;
    }
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const { channel, event, data } = JSON.parse(Buffer.concat(chunks).toString());
      io.to(channel).emit(event, data);
      res.writeHead(200, { "content-type": "application/json" }).end('{"success":true}');
    });
    return;
  }
  if (!req.url?.startsWith("/socket.io/")) res.writeHead(404).end();
});
const io = new Server(http, { pingInterval: 25000, pingTimeout: 20000 });

io.use(async (socket, next) => {
  try {
    const { payload } = await jwtVerify(String(socket.handshake.auth?.token), key, { algorithms: ["HS256"] });
    socket.data.userId = payload.sub;
    next();
  } catch {
    next(new Error("unauthorized"));
  }
});

io.on("connection", (socket) => {
  socket.on("ping", (_p, ack) => ack?.({ success: true, data: { timestamp: new Date().toISOString() } }));
  socket.on("room:join", (p, ack) => {
    socket.join(p.roomId);
    ack?.({ success: true, data: { roomId: p.roomId } });
  });
  socket.on("message:send", (p, ack) => {
    const message = { roomId: p.roomId, content: p.content, userId: socket.data.userId };
    socket.to(p.roomId).emit("message:new", message);
    ack?.({ success: true, data: message });
  });
});

process.on("SIGUSR2", () => globalThis.gc?.());
http.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ event: "listening", port: http.address().port }));
});
