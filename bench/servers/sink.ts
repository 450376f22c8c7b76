/**
 * Postback sink: answers 200 to anything, counts POSTs to /hook with first and last arrival time.
 * `GET /stats` -> { count, first, last } (ms, performance clock of this process); `POST /reset`.
 */
let count = 0;
let first = 0;
let last = 0;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/stats") return Response.json({ count, first, last });
    if (url.pathname === "/reset") {
      count = 0;
      first = 0;
      last = 0;
      return new Response("ok");
    }
    await request.arrayBuffer();
    const now = performance.now();
    if (count === 0) first = now;
    last = now;
    count++;
    return new Response("ok");
  },
});
console.log(JSON.stringify({ event: "listening", port: server.port }));
