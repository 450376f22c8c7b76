import type { EventsModel } from "./events-model";
/** The content of generated/events.ts. */
export declare function renderEvents(model: EventsModel): string;
