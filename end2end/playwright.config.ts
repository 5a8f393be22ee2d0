import { defineConfig } from "@playwright/test";

// ./dev test starts the server on a free port and passes it here.
const port = process.env.STOCKROOM_E2E_PORT ?? "3000";

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  // One retry, reported as "flaky" in the output. In 5 runs of ./dev test on one commit, 2
  // failed on a page that never hydrated within 10 s (nothing in the server's log), and that
  // stall is not explained yet (issue 21); a failing test now prints what the browser saw
  // (helpers.ts), so the next one will say. Two failures in a row still fail the run.
  retries: 1,
  reporter: [["list"]],
  use: {
    baseURL: `http://localhost:${port}`,
    trace: "off",
    launchOptions: {
      // Debian's Chromium; Playwright's own browser download is not reachable here.
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
});
