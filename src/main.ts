/** `bun start`: the gateway as a process (see process.ts). */
import { runProcess } from "./process";

await runProcess();
