import { execFileSync } from "node:child_process";
import { expect, Page, test } from "@playwright/test";
import { createProduct, hydrated, newWorkspace, workspaceUrl } from "./helpers";

async function placeOrder(page: Page, slug: string, productLabel: RegExp, quantity: string) {
  await page.goto(`${workspaceUrl(slug)}/orders/new`);
  await hydrated(page);
  await page.getByLabel("Product for line 1").selectOption({ label: (await optionLabel(page, productLabel))! });
  await page.getByLabel("Quantity for line 1").fill(quantity);
  await page.getByRole("button", { name: "Place order" }).click();
}

async function optionLabel(page: Page, pattern: RegExp) {
  const labels = await page.getByLabel("Product for line 1").locator("option").allTextContents();
  return labels.find((l) => pattern.test(l));
}

async function stockOf(page: Page, slug: string, sku: string) {
  await page.goto(`${workspaceUrl(slug)}/products?q=${sku}`);
  return page.getByTestId("product-row").filter({ hasText: sku }).getByTestId("product-stock").textContent();
}

test("create a product, place an order, confirm, ship and deliver it", async ({ browser }) => {
  const { slug, page, context } = await newWorkspace(browser, "flow");
  await createProduct(page, slug, "Blue mug", "MUG-BLUE", "12.50", "10");
  // Editing shows its own confirmation and the new values.
  await page.getByLabel("Description").fill("Stoneware, 350 ml");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("status")).toHaveText("Saved.");
  await expect(page.getByLabel("Description")).toHaveValue("Stoneware, 350 ml");

  await placeOrder(page, slug, /Blue mug/, "3");
  await expect(page.getByRole("heading", { name: "Order #1" })).toBeVisible();
  await expect(page.getByTestId("order-total")).toHaveText("USD 37.50");
  await expect(page.getByTestId("order-status")).toHaveText("Pending");

  for (const [button, status] of [
    ["Confirm", "Confirmed"],
    ["Mark shipped", "Shipped"],
    ["Mark delivered", "Delivered"],
  ]) {
    await page.getByRole("button", { name: button }).click();
    await expect(page.getByTestId("order-status")).toHaveText(status);
  }
  await expect(page.getByTestId("order-history").locator("li")).toHaveCount(4);
  await expect(page.getByTestId("order-history")).toContainText("Delivered by Olive Owner");
  await expect(page.getByRole("button", { name: "Cancel order" })).toHaveCount(0);
  expect(await stockOf(page, slug, "MUG-BLUE")).toBe("7");

  await page.goto(workspaceUrl(slug) + "/");
  await expect(page.getByTestId("revenue-chart")).toContainText("Revenue per day");
  await expect(page.getByTestId("status-counts")).toContainText("Delivered");
  await context.close();
});

test("an order larger than the stock is refused on its line; cancelling returns stock", async ({ browser }) => {
  const { slug, page, context } = await newWorkspace(browser, "cancel");
  await createProduct(page, slug, "Red tee", "TEE-RED", "20", "5");

  await placeOrder(page, slug, /Red tee/, "6");
  await expect(page.getByTestId("line-1-error")).toHaveText("Not enough Red tee in stock: 5 left.");
  await expect(page).toHaveURL(/\/orders\/new$/);

  await page.getByLabel("Quantity for line 1").fill("4");
  await page.getByRole("button", { name: "Place order" }).click();
  await expect(page.getByTestId("order-status")).toHaveText("Pending");
  const orderUrl = page.url();
  expect(await stockOf(page, slug, "TEE-RED")).toBe("1");

  await page.goto(orderUrl);
  await hydrated(page);
  await page.getByRole("button", { name: "Cancel order" }).click();
  await expect(page.getByTestId("order-status")).toHaveText("Cancelled");
  expect(await stockOf(page, slug, "TEE-RED")).toBe("5");
  await context.close();
});

test("a member can read products but cannot open product editing", async ({ browser }) => {
  const bin = process.env.STOCKROOM_E2E_SERVER_BIN;
  test.skip(!bin, "needs the server binary that ./dev test passes in");
  const { slug, page, context } = await newWorkspace(browser, "member");
  await createProduct(page, slug, "Green cap", "CAP-GREEN", "8", "4");
  execFileSync(bin!, ["add-member", "--workspace", slug, "--email", `mo@${slug}.test`, "--name", "Mo Member"], {
    env: { ...process.env, STOCKROOM_NEW_MEMBER_PASSWORD: "member-secret-42" },
  });

  const member = await browser.newContext();
  const memberPage = await member.newPage();
  await memberPage.goto(`${workspaceUrl(slug)}/login`);
  await hydrated(memberPage);
  await memberPage.getByLabel("Email").fill(`mo@${slug}.test`);
  await memberPage.getByLabel("Password").fill("member-secret-42");
  await memberPage.getByRole("button", { name: "Sign in" }).click();
  await expect(memberPage.getByTestId("dashboard-heading")).toHaveText("Welcome, Mo Member");

  await memberPage.goto(`${workspaceUrl(slug)}/products`);
  await expect(memberPage.getByTestId("product-row")).toHaveCount(1);
  await expect(memberPage.getByRole("link", { name: "New product" })).toHaveCount(0);
  await memberPage.getByRole("link", { name: "Green cap" }).click();
  await expect(memberPage.getByRole("heading", { name: "Green cap" })).toBeVisible();
  await expect(memberPage.getByRole("button", { name: "Save changes" })).toHaveCount(0);
  await expect(memberPage.getByLabel("Name")).toHaveCount(0);

  await memberPage.goto(`${workspaceUrl(slug)}/products/new`);
  await expect(memberPage.getByRole("alert")).toHaveText("You don't have access to that.");
  await member.close();
  await context.close();
});

test("the main forms work with JavaScript disabled", async ({ browser }) => {
  const { slug, context } = await newWorkspace(browser, "nojs");
  await context.close();

  const plain = await browser.newContext({ javaScriptEnabled: false });
  const page = await plain.newPage();
  await page.goto(`${workspaceUrl(slug)}/login`);
  await page.getByLabel("Email").fill(`owner@${slug}.test`);
  await page.getByLabel("Password").fill("owner-secret-42");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("dashboard-heading")).toHaveText("Welcome, Olive Owner");

  await page.goto(`${workspaceUrl(slug)}/products/new`);
  await page.getByLabel("Name").fill("Plain HTML kettle");
  await page.getByLabel("SKU").fill("KETTLE");
  await page.getByLabel(/^Price/).fill("30");
  await page.getByLabel("Stock").fill("2");
  await page.getByRole("button", { name: "Create product" }).click();
  await expect(page.getByRole("status")).toHaveText("Saved.");
  await expect(page.getByLabel("Name")).toHaveValue("Plain HTML kettle");

  await page.goto(`${workspaceUrl(slug)}/orders/new`);
  await page.getByLabel("Product for line 1").selectOption({ index: 1 });
  await page.getByLabel("Quantity for line 1").fill("2");
  await page.getByRole("button", { name: "Place order" }).click();
  await expect(page.getByTestId("order-total")).toHaveText("USD 60.00");
  await plain.close();
});
