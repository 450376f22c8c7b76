/**
 * The template's one output file: events.ts (written to generated/ by scripts/generate.ts).
 * All logic is in ../lib (plain JS, unit-tested); this file only wires it to the generator.
 */
import { File, Text } from "@asyncapi/generator-react-sdk";
import { buildEventsModel } from "../lib/events-model.js";
import { renderEvents } from "../lib/render-events.js";

export default function ({ asyncapi }) {
  const source = renderEvents(buildEventsModel(asyncapi));
  return (
    <File name="events.ts">
      <Text newLines={0}>{source}</Text>
    </File>
  );
}
