import { expect, test, type Page } from "@playwright/test";
import { signIn, watchForErrors } from "./helpers";

// The connection checklist on the demo organisation: the planted problems (a SAML signing
// certificate expiring in 20 days, an eleven-month-old SCIM token) show as warnings with what
// to do; attestations read as attested; a bad metadata upload is refused and changes nothing.

async function openConnection(page: Page, persona: string) {
  await signIn(page, persona);
  await expect(page.locator("main")).toHaveAttribute("data-hydrated", "true");
  await page.getByTestId("nav").getByRole("link", { name: "Connection" }).click();
  await expect(page).toHaveURL(/\/connection$/);
  await expect(page.getByTestId("checklist")).toBeVisible();
}

test("the expiring certificate and the old SCIM token show as warnings with what to do", async ({ page }) => {
  const errors = watchForErrors(page);
  await openConnection(page, "security-admin");

  const saml = page.getByTestId("check-saml");
  await expect(saml).toHaveAttribute("data-status", "warn");
  await expect(saml.getByTestId("check-summary")).toContainText("signing certificate expires on");
  await expect(saml).toContainText(/ (19|20) days left/);
  await expect(saml.getByTestId("check-fix")).toContainText("Download metadata file");

  const scim = page.getByTestId("check-scim");
  await expect(scim).toHaveAttribute("data-status", "warn");
  await expect(scim.getByTestId("check-summary")).toContainText("rotate it");
  await expect(scim.getByTestId("check-fix")).toContainText("Generate token");

  await expect(page.getByTestId("check-idp_app")).toHaveAttribute("data-status", "pass");

  // What no API shows is attested, and then reads as attested (not verified).
  const sessions = page.getByTestId("check-console_sessions");
  const note = `seen in the console, run ${Date.now()}`;
  await expect(sessions).not.toContainText(note);
  const attest = page.getByTestId("attest-form");
  await attest.getByLabel("Check").selectOption("console_sessions");
  await attest.getByLabel("Looked on").fill(new Date().toISOString().slice(0, 10));
  await attest.getByLabel("Note").fill(note);
  await attest.getByRole("button", { name: "Attest" }).click();
  await expect(attest.getByTestId("attest-done")).toBeVisible();
  await expect(sessions).toHaveAttribute("data-status", "attested");
  await expect(sessions).toContainText("not verified");
  await expect(sessions).toContainText(note);

  // The overview's strip shows the same.
  await page.getByTestId("nav").getByRole("link", { name: "Overview" }).click();
  await expect(page.getByTestId("strip-saml")).toHaveAttribute("data-status", "warn");
  await expect(page.getByTestId("strip-scim")).toHaveAttribute("data-status", "warn");
  expect(errors).toEqual([]);
});

test("a bad metadata upload gets a clear error and changes nothing", async ({ page }) => {
  const errors = watchForErrors(page);
  await openConnection(page, "security-admin");
  const form = page.getByTestId("metadata-sp");
  const current = form.getByTestId("current");
  await expect(current).toContainText("entity id https://us-east-1.signin.aws.amazon.com/platform/saml/");
  const before = await current.textContent();

  // A file with an external entity: read from disk in the browser, refused by the server.
  await form.getByTestId("metadata-file").setInputFiles({
    name: "metadata.xml",
    mimeType: "application/xml",
    buffer: Buffer.from(
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY x SYSTEM "file:///etc/passwd">]><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&x;"/>',
    ),
  });
  await expect(form.getByTestId("metadata-xml")).toHaveValue(/DOCTYPE/);
  const answered = page.waitForResponse((r) => r.url().endsWith("/api/upload_metadata"));
  await form.getByTestId("metadata-upload").click();
  expect((await answered).status()).toBe(400);
  const error = form.getByTestId("metadata-error");
  await expect(error).toContainText("was not stored");
  await expect(error).toContainText("DTD");
  await expect(error).toContainText("Nothing changed");

  // The IdP's metadata uploaded where Identity Center's belongs: told which file to use.
  await form.getByTestId("metadata-xml").fill(
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sts.windows.net/x/"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>',
  );
  await form.getByTestId("metadata-upload").click();
  await expect(error).toContainText("Download metadata file");

  await expect(current).toHaveText(before ?? "");
  await page.reload();
  await expect(page.getByTestId("metadata-sp").getByTestId("current")).toHaveText(before ?? "");
  await expect(page.getByTestId("check-saml")).toHaveAttribute("data-status", "warn");
  // The refused uploads are the only failed requests.
  expect(errors.filter((e) => !e.includes("/api/upload_metadata") && !e.includes("status of 400"))).toEqual([]);
});

test("auditors read the checklist and get no forms", async ({ page }) => {
  const errors = watchForErrors(page);
  await openConnection(page, "auditor");
  await expect(page.getByTestId("check-saml")).toHaveAttribute("data-status", "warn");
  await expect(page.getByTestId("metadata-sp")).toHaveCount(0);
  await expect(page.getByTestId("verify-now")).toHaveCount(0);
  expect(errors).toEqual([]);
});
