import { expect, test } from "@playwright/test";
import { signIn, watchForErrors } from "./helpers";

test("the overview is styled, hydrated, and refreshes its figures from the server", async ({ page }) => {
  const errors = watchForErrors(page);
  await signIn(page, "security-admin");

  await expect(page).toHaveTitle("Overview · Tessera");
  await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();

  // Styled: Tailwind's stylesheet is loaded and applied (the button gets its indigo fill and
  // padding, which an unstyled button does not have).
  const refresh = page.getByTestId("refresh");
  await expect(refresh).toBeVisible();
  const style = await refresh.evaluate((el) => {
    const s = getComputedStyle(el);
    return { background: s.backgroundColor, paddingLeft: s.paddingLeft, color: s.color };
  });
  expect(style.background).not.toBe("rgba(0, 0, 0, 0)");
  expect(style.background).not.toBe("rgb(239, 239, 239)"); // Chromium's default button face
  expect(parseFloat(style.paddingLeft)).toBeGreaterThanOrEqual(8);

  // Server-rendered figures from the store.
  await expect(page.getByTestId("database")).toHaveText("SQLite");
  await expect(page.getByTestId("schema")).toHaveText(/^version \d+$/);
  const starts = Number(await page.getByTestId("starts").textContent());
  expect(starts).toBeGreaterThanOrEqual(1);

  // Hydrated: the wasm has taken over the page.
  await expect(page.locator("main")).toHaveAttribute("data-hydrated", "true");

  // Interactive through a server function: Refresh re-reads the status from the server.
  const checkedAt = page.getByTestId("checked-at");
  const before = await checkedAt.textContent();
  expect(before).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} UTC$/);
  const call = page.waitForResponse(
    (res) => res.url().includes("/api/system_status") && res.request().method() === "POST",
  );
  await refresh.click();
  expect((await call).status()).toBe(200);
  await expect(checkedAt).not.toHaveText(before ?? "");
  await expect(page.getByTestId("database")).toHaveText("SQLite");

  expect(errors).toEqual([]);
});

test("an unknown address answers 404 with a way back", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  // Once the page is interactive the link is followed in the browser. (Followed before that,
  // it is an ordinary page load, which sends a visitor who is not signed in to the IdP: below.)
  await expect(page.locator("main")).toHaveAttribute("data-hydrated", "true");
  await page.getByRole("link", { name: "Back to the overview" }).click();
  // Not signed in: the overview offers sign-in and shows nothing of the deployment (its
  // server functions answer 401).
  await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();
  await expect(page.getByTestId("database")).toHaveCount(0);

  // The overview loaded as a page (the link followed before the 404 page was interactive, or
  // the address typed) sends the visitor to sign in first.
  await page.goto("/");
  await expect(page.locator('button[data-persona="security-admin"]')).toBeVisible();
  await expect(page.getByTestId("database")).toHaveCount(0);
});

const personas: { key: string; roles: string; operator: boolean }[] = [
  { key: "security-admin", roles: "Security admin", operator: true },
  { key: "team-lead", roles: "Team lead", operator: false },
  { key: "auditor", roles: "Auditor", operator: true },
  { key: "developer", roles: "Member", operator: false },
];

for (const p of personas) {
  test(`${p.key} signs in, sees what the role allows, cannot reach the rest, and signs out`, async ({ page }) => {
    const errors = watchForErrors(page);
    await signIn(page, p.key);
    await expect(page.getByTestId("me-roles")).toHaveText(p.roles);
    await expect(page.locator("main")).toHaveAttribute("data-hydrated", "true");
    // The deployment's internals: shown to operators only, and refused by the server to others
    // even when the server function is called directly.
    await expect(page.getByTestId("database")).toHaveCount(p.operator ? 1 : 0);
    const origin = new URL(page.url()).origin;
    const token = (await page.locator('meta[name="csrf-token"]').getAttribute("content")) ?? "";
    expect(token).not.toEqual("");
    const direct = await page.request.post("/api/system_status", {
      headers: { Origin: origin, "x-csrf-token": token },
      form: {},
    });
    expect(direct.status()).toBe(p.operator ? 200 : 403);
    // From this site but without the session's CSRF token: refused, whoever is signed in.
    const noToken = await page.request.post("/api/whoami", {
      headers: { Origin: origin },
      form: {},
    });
    expect(noToken.status()).toBe(403);
    expect(await noToken.text()).toContain("CSRF token");
    // Another site's post is refused, whoever is signed in.
    const crossSite = await page.request.post("/api/whoami", {
      headers: { Origin: "https://evil.example" },
      form: {},
    });
    expect(crossSite.status()).toBe(403);

    await page.getByTestId("sign-out").click();
    await expect(page.getByRole("heading", { name: "Signed out" })).toBeVisible();
    await page.goto("/");
    await expect(page.locator('button[data-persona="security-admin"]')).toBeVisible();
    const afterwards = await page.request.post("/api/whoami", {
      headers: { Origin: "http://127.0.0.1" },
      form: {},
    });
    expect([401, 403]).toContain(afterwards.status());
    // The direct calls above answer 403 on purpose; page errors are what counts here.
    expect(errors.filter((e) => !e.startsWith("HTTP 403") && !e.startsWith("HTTP 401"))).toEqual([]);
  });
}

test("health and readiness probes answer", async ({ request }) => {
  const health = await request.get("/healthz");
  expect(health.status()).toBe(200);
  expect(await health.json()).toEqual({ status: "ok" });
  const ready = await request.get("/readyz");
  expect(ready.status()).toBe(200);
  const body = await ready.json();
  expect(body.status).toBe("ready");
  expect(body.database).toBe("SQLite");
  expect(body.migrations_pending).toBe(0);
});
