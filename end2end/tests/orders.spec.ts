import { execFileSync } from "node:child_process";
import { expect, Page } from "@playwright/test";
import { createProduct, hydrated, newWorkspace, workspaceUrl, test } from "./helpers";

/** Fills the order form's "new customer" fields. */
async function newCustomer(page: Page, name: string, email: string) {
  const fields = page.getByRole("group", { name: "Or add a new customer" });
  await fields.getByLabel("Name").fill(name);
  await fields.getByLabel("Email").fill(email);
}

/** Finds a product with the picker, adds it and sets its quantity. */
async function addProduct(page: Page, name: string, quantity: string) {
  await page.getByLabel("Find a product").fill(name);
  await page.getByTestId("product-match").filter({ hasText: name }).first().click();
  await page.getByLabel(`Quantity of ${name}`).fill(quantity);
}

async function placeOrder(page: Page, slug: string, product: string, quantity: string) {
  await page.goto(`${workspaceUrl(slug)}/orders/new`);
  await hydrated(page);
  await newCustomer(page, "Harbour Café", `orders-${Date.now()}@harbour.test`);
  await addProduct(page, product, quantity);
  await page.getByRole("button", { name: "Place order" }).click();
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

  await page.goto(`${workspaceUrl(slug)}/orders/new`);
  await hydrated(page);
  await newCustomer(page, "Harbour Café", "orders@harbour.test");
  await addProduct(page, "Blue mug", "3");
  // Totalled as it is written, before it is placed.
  await expect(page.getByTestId("line-total")).toHaveText("USD 37.50");
  await expect(page.getByTestId("draft-total")).toHaveText("USD 37.50");
  await page.getByRole("button", { name: "Place order" }).click();
  await expect(page.getByRole("heading", { name: "Order #1" })).toBeVisible();
  await expect(page.getByTestId("order-total")).toHaveText("USD 37.50");
  await expect(page.getByTestId("order-status")).toHaveText("Pending");
  await expect(page.getByTestId("order-customer")).toContainText("Harbour Café");

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

  await placeOrder(page, slug, "Red tee", "6");
  await expect(page.getByTestId("line-1-error")).toHaveText("Not enough Red tee in stock: 5 left.");
  await expect(page).toHaveURL(/\/orders\/new$/);
  // The focus went to the line that needs fixing.
  await expect(page.getByLabel("Quantity of Red tee")).toBeFocused();

  await page.getByLabel("Quantity of Red tee").fill("4");
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

test("customers: added on their page, chosen on the order form, their orders listed", async ({ browser }) => {
  const { slug, page, context } = await newWorkspace(browser, "customers");
  await createProduct(page, slug, "Linen towel", "TWL-1", "9", "50");
  await page.goto(`${workspaceUrl(slug)}/customers/new`);
  await hydrated(page);
  await page.getByLabel("Name").fill("Greenleaf Interiors");
  await page.getByLabel("Email").fill("buying@greenleaf.test");
  await page.getByLabel("Shipping address (optional)").fill("880 NW Flanders St\nPortland");
  await page.getByRole("button", { name: "Add customer" }).click();
  await expect(page.getByRole("status")).toHaveText("Saved.");

  await page.getByRole("link", { name: "New order for this customer" }).click();
  await hydrated(page);
  await expect(page.getByTestId("chosen-customer")).toContainText("Greenleaf Interiors");
  // Changing the customer and finding them again by typing.
  await page.getByRole("button", { name: "Change customer" }).click();
  await page.getByLabel("Find a customer").fill("greenl");
  await page.getByTestId("customer-match").filter({ hasText: "Greenleaf" }).click();
  await expect(page.getByTestId("chosen-customer")).toContainText("buying@greenleaf.test");
  await addProduct(page, "Linen towel", "2");
  await page.getByRole("button", { name: "Place order" }).click();
  await expect(page.getByTestId("order-customer")).toContainText("880 NW Flanders St");

  await page.goto(`${workspaceUrl(slug)}/customers?q=green`);
  await page.getByRole("link", { name: "Greenleaf Interiors" }).click();
  await expect(page.getByText("Orders of Greenleaf Interiors")).toBeVisible();
  await expect(page.getByTestId("order-row")).toHaveCount(1);
  await page.goto(`${workspaceUrl(slug)}/orders`);
  await page.getByTestId("order-row").getByRole("link", { name: "Greenleaf Interiors" }).click();
  await expect(page.getByTestId("customer-filter")).toContainText("Greenleaf Interiors");
  await expect(page.getByTestId("order-row")).toHaveCount(1);
  // The status filters follow the customer chosen on this same screen.
  const filters = page.getByRole("navigation", { name: "Filter by status" });
  await expect(filters.getByRole("link", { name: "Pending" })).toHaveAttribute("href", /^\/orders\?status=PENDING&customer=/);
  await filters.getByRole("link", { name: "Pending" }).click();
  await expect(page.getByTestId("customer-filter")).toContainText("Greenleaf Interiors");
  await expect(page.getByTestId("order-row")).toHaveCount(1);
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
  await expect(memberPage.getByRole("link", { name: "Import from CSV" })).toHaveCount(0);
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
  await page.goto(`${workspaceUrl(slug)}/products/new`);
  await page.getByLabel("Name").fill("Plain HTML teapot");
  await page.getByLabel("SKU").fill("TEAPOT");
  await page.getByLabel(/^Price/).fill("25.50");
  await page.getByLabel("Stock").fill("9");
  await page.getByRole("button", { name: "Create product" }).click();
  await expect(page.getByRole("status")).toHaveText("Saved.");

  // The order form: each search and choice is a plain GET of the whole form.
  await page.goto(`${workspaceUrl(slug)}/orders/new`);
  await newCustomer(page, "Plain Customer", "plain@customer.test");
  await page.getByLabel("Find a product").fill("plain html");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page.getByTestId("product-match")).toHaveCount(2);
  await page.getByRole("button", { name: /^Add Plain HTML kettle/ }).click();
  await page.getByLabel("Find a product").fill("teapot");
  await page.getByLabel("Find a product").press("Enter");
  await page.getByRole("button", { name: /^Add Plain HTML teapot/ }).click();
  await page.getByLabel("Quantity of Plain HTML kettle").fill("2");
  await page.getByRole("button", { name: "Update totals" }).click();
  await expect(page.getByTestId("draft-total")).toHaveText("USD 85.50");
  // A refused order comes back to the same draft, with the reason on its line.
  await page.getByLabel("Quantity of Plain HTML teapot").fill("10");
  await page.getByRole("button", { name: "Place order" }).click();
  await expect(page.getByTestId("line-2-error")).toHaveText("Not enough Plain HTML teapot in stock: 9 left.");
  await page.getByRole("button", { name: "Remove Plain HTML teapot" }).click();
  await expect(page.getByTestId("order-line")).toHaveCount(1);
  await expect(page.getByRole("group", { name: "Or add a new customer" }).getByLabel("Name")).toHaveValue("Plain Customer");
  await page.getByRole("button", { name: "Place order" }).click();
  await expect(page.getByTestId("order-total")).toHaveText("USD 60.00");
  await expect(page.getByTestId("order-customer")).toContainText("Plain Customer");

  // The next order chooses that customer by searching for them.
  await page.goto(`${workspaceUrl(slug)}/orders/new`);
  await page.getByLabel("Find a customer").fill("plain");
  await page.getByRole("button", { name: "Find", exact: true }).click();
  await page.getByRole("button", { name: /^Choose Plain Customer/ }).click();
  await expect(page.getByTestId("chosen-customer")).toContainText("plain@customer.test");
  await page.getByLabel("Find a product").fill("teapot");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await page.getByRole("button", { name: /^Add Plain HTML teapot/ }).click();
  await page.getByRole("button", { name: "Place order" }).click();
  await expect(page.getByTestId("order-total")).toHaveText("USD 25.50");
  await plain.close();
});
