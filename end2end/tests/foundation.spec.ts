import { expect } from "@playwright/test";
import { hydrated, publicUrl, workspaceUrl, test } from "./helpers";

test("the public page is rendered on the server", async ({ request }) => {
  const response = await request.get(publicUrl + "/");
  expect(response.status()).toBe(200);
  const html = await response.text();
  // The content is in the HTML itself, before any script runs.
  expect(html).toContain("Products, stock and orders for your whole team.");
  expect(html).toContain("Pick your workspace address");
});

test("the public page hydrates and reacts to input", async ({ page }) => {
  await page.goto(publicUrl + "/");
  await hydrated(page);
  await page.getByLabel("Pick your workspace address").fill("acme-outdoor");
  await expect(page.getByTestId("slug-preview")).toHaveText(/^acme-outdoor\.localhost:\d+$/);
  await expect(page.getByRole("link", { name: "Create your workspace" })).toHaveAttribute(
    "href",
    "/register?slug=acme-outdoor",
  );
});

test("an unknown workspace subdomain gets a 404 page", async ({ page }) => {
  const response = await page.goto(workspaceUrl("no-such-shop") + "/");
  expect(response?.status()).toBe(404);
  await expect(page.getByTestId("no-such-workspace")).toHaveText("No such workspace");
});

test("health and readiness endpoints answer", async ({ request }) => {
  expect((await request.get(publicUrl + "/healthz")).status()).toBe(200);
  expect((await request.get(publicUrl + "/readyz")).status()).toBe(200);
});

test("the hydrated app runs under its content security policy", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to (execute|load|apply)/i.test(message.text())) {
      violations.push(message.text());
    }
  });
  const response = await page.goto(publicUrl + "/register");
  const policy = response?.headers()["content-security-policy"] ?? "";
  expect(policy).toContain("script-src 'nonce-");
  expect(policy).toContain("frame-ancestors 'none'");
  expect(policy).not.toContain("'unsafe-inline' 'strict-dynamic'");
  await hydrated(page);
  // Interactive after hydration: the live address check answers as the person types.
  await page.getByLabel("Workspace address").fill("csp-check-shop");
  await expect(page.getByTestId("slug-available")).toBeVisible();
  expect(violations).toEqual([]);
});
