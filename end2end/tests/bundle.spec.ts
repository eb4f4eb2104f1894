import { expect, test, type Page } from "@playwright/test";
import { signIn, watchForErrors } from "./helpers";

// Each page's code loads with the page (lazy routes, `cargo leptos build --split`): the first
// load of a page fetches the shell's module and that page's chunks, which the server names in
// the page's head so the browser fetches them before the shell asks; another page's chunks load
// when the reader goes there, and the page then works as before.

function wasmRequests(page: Page): Set<string> {
  const seen = new Set<string>();
  page.on("request", (req) => {
    const path = new URL(req.url()).pathname;
    if (path.startsWith("/pkg/") && path.endsWith(".wasm")) seen.add(path);
  });
  return seen;
}

// The shell's module is `tessera.wasm`; every other wasm file is a chunk of some page.
const shell = (path: string) => /^\/pkg\/tessera[^/]*\.wasm$/.test(path);
const chunks = (paths: Iterable<string>) => [...paths].filter((p) => !shell(p));

// The chunks a page's head names for preloading (the shell's own module left out).
function preloadedChunks(html: string): string[] {
  const head = html.slice(0, html.indexOf("</head>"));
  return [...head.matchAll(/<link [^>]*>/g)]
    .map((m) => m[0])
    .filter((link) => link.includes('rel="preload"'))
    .map((link) => /href="([^"]+\.wasm)"/.exec(link)?.[1] ?? "")
    .filter((href) => href !== "" && !shell(href))
    .sort();
}

test("a page loads its own code with it, and another page's code when the reader goes there", async ({ page }) => {
  const errors = watchForErrors(page);
  await signIn(page, "security-admin");

  const seen = wasmRequests(page);
  const response = await page.goto("/history");
  await expect(page.locator("main")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByRole("heading", { level: 1, name: "History" })).toBeVisible();

  // The server names the page's chunks in its head: a preload for each one the browser loads.
  const preloaded = preloadedChunks((await response?.text()) ?? "");
  expect(preloaded.length).toBeGreaterThan(0);
  const historyChunks = chunks(seen);
  expect(historyChunks.length).toBeGreaterThan(0);
  for (const chunk of historyChunks) expect(preloaded).toContain(chunk);
  // The shell's own module loads too: the chunks only add to it.
  expect([...seen].some(shell)).toBe(true);

  // Going to Seats in the page fetches chunks History did not need, and Seats works: its
  // figures come from a server function called by the page's newly loaded code.
  seen.clear();
  const seatsCall = page.waitForResponse((res) => res.url().includes("/api/") && res.request().method() === "POST");
  await page.getByTestId("nav").getByRole("link", { name: "Seats" }).click();
  await expect(page).toHaveURL(/\/seats$/);
  await expect(page.getByRole("heading", { level: 1, name: "Seats" })).toBeVisible();
  expect((await seatsCall).status()).toBe(200);
  await expect(page.getByTestId("seat-cost")).toHaveText(/^USD [\d,]+\.\d\d$/);
  const seatsChunks = chunks(seen);
  expect(seatsChunks.length).toBeGreaterThan(0);
  for (const chunk of seatsChunks) expect(historyChunks).not.toContain(chunk);

  // Back to History: its chunks are already here, nothing is fetched again.
  seen.clear();
  await page.goBack();
  await expect(page.getByRole("heading", { level: 1, name: "History" })).toBeVisible();
  expect(chunks(seen)).toEqual([]);

  expect(errors).toEqual([]);
});

// Each page is rendered whole before it is sent, waiting for its data; the chunks it names are
// found after that wait. Asked for many pages at once, each answer still names its own page's
// chunks: none left without, none with another page's.
test("every page names its own chunks, also when many pages are asked for at once", async ({ page }) => {
  await signIn(page, "security-admin");
  const addresses = ["/", "/connection", "/users", "/groups", "/drift", "/seats", "/history"];
  const asked = addresses.flatMap((address) => Array.from({ length: 4 }, () => address));
  const answers = await Promise.all(
    asked.map(async (address) => {
      const res = await page.request.get(address);
      expect(res.status(), address).toBe(200);
      return { address, chunks: preloadedChunks(await res.text()) };
    }),
  );
  const byAddress = new Map<string, string[]>();
  for (const { address, chunks } of answers) {
    expect(chunks.length, `${address} names no chunk of its own`).toBeGreaterThan(0);
    const first = byAddress.get(address);
    if (first === undefined) byAddress.set(address, chunks);
    else expect(chunks, `${address} named different chunks in two answers`).toEqual(first);
  }
  // Different pages need different code: History's chunks are not Seats'.
  expect(byAddress.get("/history")).not.toEqual(byAddress.get("/seats"));
});
