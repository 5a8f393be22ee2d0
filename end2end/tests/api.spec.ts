import { expect } from "@playwright/test";
import { hydrated, newWorkspace, port, workspaceUrl, test } from "./helpers";

test("an owner creates an API token, a script uses it, and it stops working once revoked", async ({
  browser,
  request,
}) => {
  const { slug, page: owner, context } = await newWorkspace(browser, "api");
  await owner.goto(`${workspaceUrl(slug)}/settings/api`);
  await hydrated(owner);
  await expect(owner.getByTestId("no-tokens")).toBeVisible();
  await expect(owner.getByTestId("token-usage")).toHaveText("0 / 2 API tokens");
  await owner.getByLabel("Token name").fill("Web shop");
  await owner.getByLabel("Access").selectOption("write");
  await owner.getByRole("button", { name: "Create token" }).click();
  const secret = (await owner.getByTestId("new-token-secret").textContent())!.trim();
  expect(secret).toMatch(/^sr_[a-z0-9]{8}_[0-9a-f]{56}$/);
  const row = owner.getByTestId("token-row").filter({ hasText: "Web shop" });
  await expect(row.getByTestId("token-prefix")).toHaveText(`${secret.slice(0, 11)}…`);

  // A plain HTTP client, as a shop's backend would call (no browser, no cookies). The
  // workspace is named by the Host header.
  const api = (path: string) => `http://127.0.0.1:${port}/api/v1${path}`;
  const headers = { Authorization: `Bearer ${secret}`, Host: `${slug}.localhost:${port}` };
  const created = await request.post(api("/products"), {
    headers,
    data: { sku: "MUG-1", name: "Enamel mug", price: { amount_minor: 1250, currency: "USD" }, stock: 7 },
  });
  expect(created.status()).toBe(201);
  const listed = await request.get(api("/products"), { headers });
  expect(listed.status()).toBe(200);
  expect((await listed.json()).data.map((p: { sku: string }) => p.sku)).toEqual(["MUG-1"]);

  // The product shows on the screens too: one path to the data.
  await owner.goto(`${workspaceUrl(slug)}/products`);
  await expect(owner.getByText("Enamel mug")).toBeVisible();

  await owner.goto(`${workspaceUrl(slug)}/settings/api`);
  await hydrated(owner);
  await expect(row.getByTestId("token-last-used")).not.toHaveText("Never");
  await row.getByRole("button", { name: "Revoke Web shop" }).click();
  await expect(owner.getByRole("status").filter({ hasText: "Token revoked" })).toBeVisible();
  await expect(row.getByTestId("token-state")).toHaveText("Revoked");

  const refused = await request.get(api("/products"), { headers });
  expect(refused.status()).toBe(401);
  expect(refused.headers()["content-type"]).toBe("application/problem+json");
  expect((await refused.json()).type).toBe("/docs/api#problem-unauthenticated");
  await context.close();
});

test("the API reference lists the endpoints and the kinds of error", async ({ page }) => {
  await page.goto(`http://localhost:${port}/docs/api`);
  await expect(page.getByRole("heading", { name: "Stockroom API reference" })).toBeVisible();
  await expect(page.locator("#problem-idempotency-key-reused")).toBeVisible();
  await expect(page.getByText("/api/v1/orders/{id}/status").first()).toBeVisible();
});
