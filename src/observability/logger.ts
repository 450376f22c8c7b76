import pino, { type Logger } from "pino";

export type { Logger };

/** JSON logs, one line per event. Anything that looks like a credential is redacted. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "switchboard" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          "token",
          "*.token",
          "authorization",
          "*.authorization",
          "*.headers.authorization",
          "apiToken",
          "jwtSecret",
        ],
        censor: "[redacted]",
      },
    },
    destination,
  );
}
