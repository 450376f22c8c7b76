/**
 * Scenario 5's baseline: a bare `fetch` loop POSTing JSON to the sink at a fixed concurrency (the
 * gateway's default POSTBACK_CONCURRENCY), no storage, no signing. Args: <url> <count> <concurrency>.
 */
const [url = "", countArg = "1000", concArg = "10"] = process.argv.slice(2);
const count = Number(countArg);
let next = 0;
let failed = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: Number(concArg) }, async () => {
    while (next < count) {
      const i = next++;
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ n: i, event: "bench" }),
      });
      await res.arrayBuffer();
      if (!res.ok) failed++;
    }
  }),
);
console.log(JSON.stringify({ count, failed, ms: performance.now() - started }));
