import path from "node:path";
import { defineConfig } from "@playwright/test";

// Paths below are relative to the repository root, where the server is started.
const root = path.resolve(__dirname, "..");

// `cargo xtask test` builds the site and sets these; see xtask/src/main.rs.
const bin = process.env.TESSERA_BIN ?? "target/debug/tessera";
const port = process.env.TESSERA_E2E_PORT ?? "3107";
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  reporter: [["list"]],
  timeout: 30_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      // Debian's Chromium: Playwright's own browser download cannot work on these machines.
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: `"${bin}" demo`,
    cwd: root,
    url: `${baseURL}/readyz`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      TESSERA_SERVER__LISTEN: `127.0.0.1:${port}`,
      TESSERA_SERVER__SITE_ROOT: process.env.TESSERA_SITE_ROOT ?? "target/site",
      TESSERA_DATABASE__URL:
        process.env.TESSERA_E2E_DATABASE_URL ?? "sqlite://end2end/.tmp/tessera.db",
      TESSERA_LOG__LEVEL: "warn",
      // Any free port for the demo's sandbox, so a running demo does not collide with the tests.
      TESSERA_SANDBOX__AWS_LISTEN: "127.0.0.1:0",
    },
  },
});
