import { execFileSync } from "node:child_process";
import AxeBuilder from "@axe-core/playwright";
import { Browser, expect, Page } from "@playwright/test";
import { createProduct, hydrated, newWorkspace, port, publicUrl, uniqueSlug, workspaceUrl, test } from "./helpers";

const consoleUrl = `http://admin.localhost:${port}`;
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

/**
 * Axe's WCAG 2.1 A and AA rules at a phone's width and a desktop's, failing on serious and
 * critical violations (the others are printed); and at the phone's width, no page is wider
 * than the screen.
 */
async function audit(page: Page, label: string) {
  const problems: string[] = [];
  for (const size of [PHONE, DESKTOP]) {
    await page.setViewportSize(size);
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    for (const v of results.violations) {
      const line = `${label} @${size.width}px: ${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`;
      if (v.impact === "serious" || v.impact === "critical") problems.push(line);
      else console.log(`minor: ${line}`);
    }
    if (size === PHONE) {
      const [scroll, client] = await page.evaluate(() => [
        document.documentElement.scrollWidth,
        document.documentElement.clientWidth,
      ]);
      if (scroll > client) problems.push(`${label} @390px: ${scroll}px wide in a ${client}px screen`);
    }
  }
  // Soft: every page is audited, and the test lists all that failed.
  expect.soft(problems).toEqual([]);
}

/** Opens `url` and audits it; Leptos pages are audited once hydrated. */
async function visit(page: Page, url: string, label: string, app = true) {
  await page.setViewportSize(DESKTOP);
  await page.goto(url);
  if (app) await hydrated(page);
  await audit(page, label);
}

async function signIn(browser: Browser, slug: string, email: string, password: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${workspaceUrl(slug)}/login`);
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("dashboard-heading")).toBeVisible();
  return { page, context };
}

test("every page of every site passes axe and fits a phone's width", async ({ browser }) => {
  test.setTimeout(240_000);
  const bin = process.env.STOCKROOM_E2E_SERVER_BIN;
  const admin = process.env.STOCKROOM_E2E_ADMIN_EMAIL;
  const adminPassword = process.env.STOCKROOM_E2E_ADMIN_PASSWORD;
  test.skip(!bin || !admin || !adminPassword, "./dev test passes the server binary and a console account");

  // A workspace with a product, a customer, an order and an import to look at.
  const { slug, page, context } = await newWorkspace(browser, "a11y");
  const site = workspaceUrl(slug);
  await createProduct(page, slug, "Audit lamp", "LAMP-1", "45", "3");
  const productUrl = page.url().split("?")[0];
  await page.goto(`${site}/orders/new`);
  await hydrated(page);
  const customer = page.getByRole("group", { name: "Or add a new customer" });
  await customer.getByLabel("Name").fill("Audit Customer");
  await customer.getByLabel("Email").fill("audit@customer.test");
  await page.getByLabel("Find a product").fill("audit");
  await page.getByTestId("product-match").first().click();
  await page.getByRole("button", { name: "Place order" }).click();
  await expect(page.getByTestId("order-status")).toBeVisible();
  const orderUrl = page.url();
  await page.getByTestId("order-customer").getByRole("link").click();
  await expect(page.getByRole("heading", { name: "Audit Customer", exact: true })).toBeVisible();
  const customerUrl = page.url();
  await page.goto(`${site}/products/import`);
  await page.getByLabel("CSV file").setInputFiles({ name: "a.csv", mimeType: "text/csv", buffer: Buffer.from("sku,name,price,stock\nA-1,A,1,1\nB-1,B,x,1\n") });
  await page.getByRole("button", { name: "Upload and preview" }).click();
  await expect(page.getByTestId("import-status")).toBeVisible();
  const importUrl = page.url();
  execFileSync(bin!, ["add-member", "--workspace", slug, "--email", `mo@${slug}.test`, "--name", "Mo Member"], {
    env: { ...process.env, STOCKROOM_NEW_MEMBER_PASSWORD: "member-secret-42" },
  });

  const pages = [
    "/",
    "/products",
    "/products/new",
    productUrl,
    "/products/import",
    "/products/import?problem=not_utf8&detail=",
    importUrl,
    "/orders",
    "/orders/new",
    orderUrl,
    "/customers",
    "/customers/new",
    customerUrl,
    "/team",
    "/profile",
    "/exports",
    "/no-such-page",
  ];
  for (const path of pages) {
    await visit(page, path.startsWith("http") ? path : `${site}${path}`, `owner ${path}`);
  }
  // The order form with search results and a line on it, and after a refused submission.
  await page.goto(`${site}/orders/new`);
  await hydrated(page);
  await page.getByLabel("Find a product").fill("lamp");
  await page.getByTestId("product-match").first().click();
  await page.getByLabel("Find a product").fill("lamp");
  await expect(page.getByTestId("product-match")).toHaveCount(1);
  await page.getByRole("button", { name: "Place order" }).click();
  await expect(page.getByTestId("customer-error")).not.toBeEmpty();
  await audit(page, "owner /orders/new, filled in and refused");

  const member = await signIn(browser, slug, `mo@${slug}.test`, "member-secret-42");
  for (const path of pages) {
    await visit(member.page, path.startsWith("http") ? path : `${site}${path}`, `member ${path}`);
  }
  await member.context.close();
  await context.close();

  // Signed out: the public site, a workspace's public pages, the console's sign-in.
  const anonymous = await browser.newContext();
  const visitor = await anonymous.newPage();
  for (const path of ["/", "/register", "/find", "/no-such-page"]) {
    await visit(visitor, `${publicUrl}${path}`, `public ${path}`);
  }
  for (const path of ["/login", "/forgot", "/invite/not-a-real-token", "/reset/not-a-real-token"]) {
    await visit(visitor, `${site}${path}`, `signed out ${path}`);
  }
  await visit(visitor, `http://${uniqueSlug("nobody")}.localhost:${port}/`, "unknown workspace");
  await visit(visitor, `${consoleUrl}/login`, "console signed out");
  await visitor.goto(`${publicUrl}/dev/outbox`);
  await audit(visitor, "development outbox");
  await anonymous.close();

  // The console, signed in.
  const consoleContext = await browser.newContext();
  const consolePage = await consoleContext.newPage();
  await consolePage.goto(`${consoleUrl}/login`);
  await hydrated(consolePage);
  await consolePage.getByLabel("Email").fill(admin!);
  await consolePage.getByLabel("Password").fill(adminPassword!);
  await consolePage.getByRole("button", { name: "Sign in" }).click();
  await expect(consolePage.getByTestId("tenant-row").first()).toBeVisible();
  for (const path of ["/", `/tenants/${slug}`, "/audit"]) {
    await visit(consolePage, `${consoleUrl}${path}`, `console ${path}`);
  }
  await consoleContext.close();
});

/** Presses Tab until the focused element matches `selector` (at most `limit` times). */
async function tabTo(page: Page, selector: string, limit = 40) {
  for (let i = 0; i < limit; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${selector}`);
}

test("a whole order by keyboard alone: sign in, customer, product, quantity, place", async ({ browser }) => {
  const { slug, page: setup, context: setupContext } = await newWorkspace(browser, "keys");
  await createProduct(setup, slug, "Keyboard lamp", "KEY-LAMP", "30", "8");
  await setup.goto(`${workspaceUrl(slug)}/customers/new`);
  await hydrated(setup);
  await setup.getByLabel("Name").fill("Tabitha Keys");
  await setup.getByLabel("Email").fill("tabitha@keys.test");
  await setup.getByRole("button", { name: "Add customer" }).click();
  await expect(setup.getByRole("status")).toHaveText("Saved.");
  await setupContext.close();

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${workspaceUrl(slug)}/login`);
  await hydrated(page);
  await tabTo(page, "#field-email");
  await page.keyboard.type(`owner@${slug}.test`);
  await page.keyboard.press("Tab");
  await page.keyboard.type("owner-secret-42");
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("dashboard-heading")).toBeVisible();

  // From the dashboard to the order form through the navigation.
  await tabTo(page, 'nav a[href="/orders"]');
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Orders" })).toBeVisible();
  await tabTo(page, 'a[href="/orders/new"]');
  await page.keyboard.press("Enter");
  await hydrated(page);

  await tabTo(page, "#customer-search");
  await page.keyboard.type("tabitha");
  await expect(page.getByTestId("customer-match")).toHaveCount(1);
  // The arrow moves the focus at once, not at the next frame: a key pressed straight after it
  // (a quick hand, a slow device) lands on the match.
  const focusedAtOnce = await page.locator("#customer-search").evaluate((box) => {
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowDown", bubbles: true }));
    return document.activeElement?.id;
  });
  expect(focusedAtOnce).toBe("customer-match-0");
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("chosen-customer")).toContainText("Tabitha Keys");
  // Choosing moves the focus on to the product search.
  await expect(page.locator("#product-search")).toBeFocused();
  await page.keyboard.type("keyboard");
  await expect(page.getByTestId("product-match")).toHaveCount(1);
  await page.keyboard.press("ArrowDown");
  await expect(page.getByTestId("product-match")).toBeFocused();
  await page.keyboard.press("Enter");
  // Adding moves the focus to the new line's quantity.
  await expect(page.getByLabel("Quantity of Keyboard lamp")).toBeFocused();
  await page.keyboard.press("Control+A");
  await page.keyboard.type("3");
  await expect(page.getByTestId("draft-total")).toHaveText("USD 90.00");
  await tabTo(page, 'button[type="submit"]:not([formmethod]):not([aria-hidden])');
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("order-total")).toHaveText("USD 90.00");
  await expect(page.getByTestId("order-customer")).toContainText("Tabitha Keys");
  await context.close();
});

test("after a refused submission the focus is on what to fix, and the error is announced", async ({ browser }) => {
  const { slug, page, context } = await newWorkspace(browser, "focus");
  await page.goto(`${workspaceUrl(slug)}/products/new`);
  await hydrated(page);
  await page.getByLabel("Name").fill("Comma lamp");
  await page.getByLabel("SKU").fill("COMMA-1");
  await page.getByLabel(/^Price/).fill("12,50");
  await page.getByLabel("Stock").fill("3");
  await page.getByRole("button", { name: "Create product" }).click();
  const price = page.getByLabel(/^Price/);
  await expect(price).toBeFocused();
  await expect(price).toHaveAttribute("aria-invalid", "true");
  const message = page.locator(`#${await price.getAttribute("aria-describedby")}`);
  await expect(message).toContainText("decimal point");
  await expect(message).toHaveAttribute("aria-live", "polite");

  // A refusal that belongs to no field: the alert itself takes the focus.
  const visitor = await browser.newContext();
  const signIn = await visitor.newPage();
  await signIn.goto(`${workspaceUrl(slug)}/login`);
  await hydrated(signIn);
  await signIn.getByLabel("Email").fill(`owner@${slug}.test`);
  await signIn.getByLabel("Password").fill("not-the-password-1");
  await signIn.getByRole("button", { name: "Sign in" }).click();
  await expect(signIn.getByRole("alert")).toBeFocused();
  await visitor.close();
  await context.close();
});
