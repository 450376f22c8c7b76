/** The gateway as shipped (`src/main.ts`), plus SIGUSR2 = full GC for RSS readings. Env is set by bench/run.ts. */
import "./gc";

await import("../../src/main");
