/**
 * SIGUSR2 = a full GC, so the bench can read RSS after one (any Bun server imports this). SIGTERM exits
 * cleanly (the gateway has its own handler), so `bun --cpu-prof` writes its profile for a baseline too.
 */
process.on("SIGUSR2", () => {
  Bun.gc(true);
});
if (process.listenerCount("SIGTERM") === 0) process.on("SIGTERM", () => process.exit(0));
