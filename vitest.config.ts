import { defineConfig } from "vitest/config";

// The server and the tests import the SDK package (@hookwire/sdk, an npm workspace) by name; this
// condition resolves it to its TypeScript sources, so nothing needs building first.
const conditions = ["hookwire-source"];

/** The tiers that need a store start the run's FerretDB (one per tier run; unit never does). */
const ferretdb = ["test/setup/ferretdb.ts"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    pool: "forks",
    // Each e2e file starts its own Hookwire processes; two cores run two files at a time well.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // `npm test` runs every tier; `npm run test:unit` (vitest run --project unit) only the first, in seconds.
    projects: [
      // Pure code and in-process parts (the engine on the in-memory store, receivers on loopback): no FerretDB, no server process.
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      // The stores on a real FerretDB, in process.
      { extends: true, test: { name: "store", include: ["test/store/**/*.test.ts"], globalSetup: ferretdb } },
      // The real server as a child process, called by real clients.
      { extends: true, test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], globalSetup: ferretdb } },
      // The fault, isolation, shutdown and rate-limit tests again with every server two worker processes
      // (server/cluster/): what they prove (nothing lost, a stuck endpoint costs only itself, health, stops,
      // limits) must hold for a cluster too.
      {
        extends: true,
        test: {
          name: "workers",
          include: ["test/e2e/{faults,faults-embedded,isolation,shutdown,rate-limit}.test.ts"],
          env: { HOOKWIRE_WORKERS: "2" },
          globalSetup: ferretdb,
        },
      },
      // The docs checker: every runnable block of README.md and docs/*.md against a live server (docs/README.md).
      { extends: true, test: { name: "docs", include: ["test/docs/**/*.test.ts"], globalSetup: ferretdb } },
      // Toolchains, packages and a browser: Go, Python, grpcurl, npm pack, Chromium.
      { extends: true, test: { name: "slow", include: ["test/slow/**/*.test.ts"], globalSetup: ferretdb } },
    ],
  },
});
