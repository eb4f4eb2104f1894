import { expect, type Page } from "@playwright/test";

// Every console error or failed request on a page is a bug: a missing asset, a hydration
// mismatch, a panic in the wasm.
export function watchForErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => errors.push(`page: ${err.message}`));
  page.on("response", (res) => {
    if (res.status() >= 400) errors.push(`HTTP ${res.status()} ${res.url()}`);
  });
  return errors;
}

// Signs in through the sandbox IdP's login page as one of its personas.
export async function signIn(page: Page, persona: string) {
  await page.goto("/");
  // Not signed in: Tessera sends the browser to the IdP, which lists the personas.
  await page.locator(`button[data-persona="${persona}"]`).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("me-name")).toBeVisible();
}
