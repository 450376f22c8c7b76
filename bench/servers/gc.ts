/** SIGUSR2 = a full GC, so the bench can read RSS after one (any Bun server imports this). */
process.on("SIGUSR2", () => {
  Bun.gc(true);
});
