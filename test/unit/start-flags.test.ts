// The servers tests and benches start run with the flags `npm start` gives node, so what they measure is what runs.
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { START_FLAGS } from "../helpers/hookwire-process.js";

it("the test harness starts the server with npm start's node flags", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { scripts: { start: string } };
  expect(pkg.scripts.start).toContain(`exec node ${START_FLAGS.join(" ")} dist/server/main.mjs`);
});
