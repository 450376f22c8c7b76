import { z } from "zod";

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** "3600", "90s", "30m", "1h", "7d", "2w" -> seconds; undefined when not a positive duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)\s*([smhdw]?)$/.exec(text.trim());
  if (!match) return undefined;
  const seconds = Number(match[1]) * (UNIT_SECONDS[match[2] || "s"] ?? 1);
  return seconds > 0 && Number.isSafeInteger(seconds) ? seconds : undefined;
}

/** A duration string as a schema, for contracts and config alike. */
export const DurationString = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, {
    error: 'must be a duration such as "3600", "90s", "30m", "1h" or "7d"',
  })
  .meta({ description: 'Seconds, or a number with a unit: "90s", "30m", "1h", "7d", "2w"', example: "1h" });
