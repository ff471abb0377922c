import { defineConfig } from "vitest/config";

// The server and the tests import the SDK package (@hookwire/sdk, an npm workspace) by name; this
// condition resolves it to its TypeScript sources, so nothing needs building first.
const conditions = ["hookwire-source"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/setup/ferretdb.ts"],
    pool: "forks",
    // Each file starts its own Hookwire processes; two cores run two files at a time well.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
