import { Browser, BrowserContext, expect, Page, test as base } from "@playwright/test";

export const port = process.env.STOCKROOM_E2E_PORT ?? "3000";
export const publicUrl = `http://localhost:${port}`;
export const workspaceUrl = (slug: string) => `http://${slug}.localhost:${port}`;

/**
 * Playwright's `test`, with a record of what every browser context of the test did: console
 * messages, page errors, failed and unfinished requests. A browser test fails where the server
 * log shows nothing (a page that never hydrates); the record is printed beside the failure, so
 * a red CI run says what the browser saw.
 */
export const test = base.extend<{ browserRecord: string[] }>({
  browserRecord: [
    async ({ browser }, use, testInfo) => {
      const started = Date.now();
      const lines: string[] = [];
      const note = (text: string) => lines.push(`+${Date.now() - started} ms ${text}`);
      const pending = new Map<object, string>();
      const watch = (context: BrowserContext) => {
        context.on("console", (m) => note(`console.${m.type()} ${m.page()?.url() ?? ""}: ${m.text()}`));
        context.on("weberror", (e) => note(`page error ${e.page()?.url() ?? ""}: ${e.error().message}`));
        context.on("request", (r) => pending.set(r, `${r.method()} ${r.url()} (asked at +${Date.now() - started} ms)`));
        context.on("requestfinished", (r) => pending.delete(r));
        context.on("requestfailed", (r) => {
          pending.delete(r);
          note(`request failed ${r.method()} ${r.url()}: ${r.failure()?.errorText}`);
        });
        context.on("response", (r) => {
          if (r.status() >= 400) note(`answer ${r.status()} to ${r.request().method()} ${r.url()}`);
        });
      };
      const newContext = browser.newContext.bind(browser);
      browser.newContext = async (options) => {
        const context = await newContext(options);
        watch(context);
        return context;
      };
      await use(lines);
      browser.newContext = newContext;
      if (testInfo.status !== testInfo.expectedStatus) {
        const unfinished = [...pending.values()].map((r) => `unfinished ${r}`);
        const record = [...lines, ...unfinished].join("\n");
        console.log(`what the browser saw in "${testInfo.title}":\n${record || "(nothing)"}`);
      }
    },
    { auto: true },
  ],
});

/** Resolves once the wasm bundle has hydrated the page and event handlers are attached. */
export async function hydrated(page: Page) {
  try {
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  } catch (error) {
    // Which of the bundle's files had arrived, and when: a chunk that never came shows here.
    const state = await page
      .evaluate(() => ({
        url: location.href,
        readyState: document.readyState,
        scripts: performance
          .getEntriesByType("resource")
          .filter((r) => /\.(wasm|js)$/.test(r.name))
          .map((r) => {
            const t = r as PerformanceResourceTiming;
            return `${t.name.split("/").pop()} ${Math.round(t.startTime)}–${Math.round(t.responseEnd)} ms, ${t.transferSize} B`;
          }),
      }))
      .catch((e) => ({ unreadable: String(e) }));
    throw new Error(`${(error as Error).message}\npage: ${JSON.stringify(state, null, 2)}`);
  }
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

export const consoleUrl = `http://admin.localhost:${port}`;

/** A new browser context signed in to the platform console, as the account `./dev test` makes. */
export async function consoleSignedIn(browser: Browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${consoleUrl}/login`);
  await hydrated(page);
  await page.getByLabel("Email").fill(process.env.STOCKROOM_E2E_ADMIN_EMAIL!);
  await page.getByLabel("Password").fill(process.env.STOCKROOM_E2E_ADMIN_PASSWORD!);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("tenant-row").first()).toBeVisible();
  return { page, context };
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
