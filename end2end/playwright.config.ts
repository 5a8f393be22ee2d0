import { defineConfig } from "@playwright/test";

// ./dev test starts the server on a free port and passes it here.
const port = process.env.STOCKROOM_E2E_PORT ?? "3000";

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  // No retries: a test that passes only on its second try hides a fault (issue 21 found two
  // that way: a page served without its own content security policy, and an arrow key whose
  // focus moved a frame after the next key). A failing test prints what the browser saw.
  retries: 0,
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
