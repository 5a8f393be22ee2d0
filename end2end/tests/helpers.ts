import { Browser, expect, Page } from "@playwright/test";

export const port = process.env.STOCKROOM_E2E_PORT ?? "3000";
export const publicUrl = `http://localhost:${port}`;
export const workspaceUrl = (slug: string) => `http://${slug}.localhost:${port}`;

/** Resolves once the wasm bundle has hydrated the page and event handlers are attached. */
export async function hydrated(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/** A slug no earlier run can have taken. */
export function uniqueSlug(prefix: string) {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Registers a new workspace in a fresh browser context; the page is signed in as its owner. */
export async function newWorkspace(browser: Browser, prefix: string) {
  const slug = uniqueSlug(prefix);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${publicUrl}/register?slug=${slug}`);
  await hydrated(page);
  await page.getByLabel("Business name").fill(`Shop ${slug}`);
  await page.getByLabel("Your name").fill("Olive Owner");
  await page.getByLabel("Email").fill(`owner@${slug}.test`);
  await page.getByLabel("Password").fill("owner-secret-42");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await expect(page.getByTestId("dashboard-heading")).toBeVisible();
  return { slug, page, context };
}

export async function createProduct(page: Page, slug: string, name: string, sku: string, price: string, stock: string) {
  await page.goto(`${workspaceUrl(slug)}/products/new`);
  await hydrated(page);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("SKU").fill(sku);
  await page.getByLabel(/^Price/).fill(price);
  await page.getByLabel("Stock").fill(stock);
  await page.getByRole("button", { name: "Create product" }).click();
  await expect(page.getByRole("status")).toHaveText("Saved.");
}
