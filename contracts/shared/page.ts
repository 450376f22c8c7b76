import { z } from "zod";

/** Cursor pagination, the same on every list operation: pass `nextCursor` back as `cursor`. */
export const PAGE_DESCRIPTION = "Pass `nextCursor` back as `cursor` for the next page; it is null on the last one.";

/** `limit`: how many per page, 1..max. */
export const pageLimit = (what: string, max = 1000, byDefault = 100) =>
  z
    .number()
    .int()
    .min(1)
    .max(max)
    .default(byDefault)
    .meta({ description: `${what} per page` });

/** `cursor`: an opaque `nextCursor` of the previous page. */
export const pageCursor = z
  .string()
  .min(1)
  .max(512)
  .optional()
  .meta({ description: "`nextCursor` of the previous page" });

/** `nextCursor` in an answer: null on the last page. */
export const nextCursor = z
  .string()
  .nullable()
  .meta({ description: "`cursor` of the next page; null on the last one" });
