import { expect, Page } from "@playwright/test";
import { createProduct, hydrated, newWorkspace, port, publicUrl, workspaceUrl, test } from "./helpers";

const consoleUrl = `http://admin.localhost:${port}`;

/** The wasm files the page has fetched so far, by file name; each must have been found. */
function watchWasm(page: Page) {
  const fetched = new Set<string>();
  page.on("response", (response) => {
    const url = new URL(response.url());
    if (!url.pathname.endsWith(".wasm")) return;
    expect(response.status(), url.pathname).toBe(200);
    fetched.add(url.pathname.split("/").pop()!);
  });
  return fetched;
}

/** The wasm files the server's HTML asks the browser to preload. */
async function preloaded(page: Page) {
  const hrefs = await page
    .locator('head link[rel="preload"][href$=".wasm"]')
    .evaluateAll((links) => links.map((l) => (l as HTMLLinkElement).href));
  return new Set(hrefs.map((href) => new URL(href).pathname.split("/").pop()!));
}

/**
 * Every file the page's head asks to have fetched ahead, once per link. leptos added a second
 * link for some chunks on some pages (app::ssr::chunks takes that over).
 */
async function preloadLinks(page: Page) {
  return page
    .locator('head link[rel="preload"], head link[rel="modulepreload"]')
    .evaluateAll((links) => links.map((l) => new URL((l as HTMLLinkElement).href).pathname));
}

async function expectEachPreloadOnceWithTheLoader(page: Page) {
  const links = await preloadLinks(page);
  expect(links.length, `each file named once: ${links}`).toBe(new Set(links).size);
  expect(links.some((l) => /\/__wasm_split\.[^/]+\.js$/.test(l)), "the chunks' loader is preloaded").toBe(true);
}

/** Which lazy areas' own chunks are among `files` (`split_show_<area>_…`). */
function areas(files: Set<string>) {
  return [...files]
    .map((f) => /^split_show_([a-z]+)_/.exec(f)?.[1])
    .filter((a): a is string => !!a)
    .sort();
}

/**
 * Marks the loaded document; a client-side navigation keeps the mark, a full load loses it.
 * Navigations below must all be client-side: that is where a lazy screen loads its code.
 */
async function markDocument(page: Page) {
  await page.evaluate(() => ((window as unknown as { stockroomMark: number }).stockroomMark = 1));
}

async function sameDocument(page: Page) {
  const mark = await page.evaluate(() => (window as unknown as { stockroomMark?: number }).stockroomMark);
  expect(mark, "reached without a full page load").toBe(1);
}

async function heading(page: Page, name: string | RegExp) {
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
}

test("a first load fetches exactly the code its screen needs, all of it preloaded", async ({ browser }) => {
  const { slug, context } = await newWorkspace(browser, "weights");
  const page = await context.newPage();
  const fetched = watchWasm(page);
  await page.goto(`${workspaceUrl(slug)}/products`);
  await hydrated(page);
  await page.waitForLoadState("networkidle");
  const wanted = await preloaded(page);
  expect(areas(wanted)).toEqual(["products"]);
  expect([...fetched].sort(), "every file fetched was preloaded, every preload used").toEqual([...wanted].sort());
  await expectEachPreloadOnceWithTheLoader(page);

  // Into a screen of another area: its code arrives then, and only then.
  await markDocument(page);
  await page.getByRole("link", { name: "Team" }).click();
  await heading(page, "Team");
  await sameDocument(page);
  expect(areas(fetched)).toEqual(["admin", "products"]);

  // The public site's registration page hydrates with the public site's own bundle, one
  // preloaded file: none of the workspaces' code, not even their main bundle.
  const visitor = await browser.newContext();
  const anonymous = await visitor.newPage();
  const publicFetched = watchWasm(anonymous);
  await anonymous.goto(`${publicUrl}/register`);
  await hydrated(anonymous);
  await anonymous.waitForLoadState("networkidle");
  expect([...publicFetched]).toEqual([expect.stringMatching(/^public\.[0-9a-f]+\.wasm$/)]);
  expect([...publicFetched]).toEqual([...(await preloaded(anonymous))]);

  // A page that shows its screen without waiting for the database: the same.
  await anonymous.goto(`${workspaceUrl(slug)}/login`);
  await hydrated(anonymous);
  await expectEachPreloadOnceWithTheLoader(anonymous);
  await visitor.close();
  await context.close();
});

test("a member moves into every screen of the workspace and back without a reload", async ({ browser }) => {
  const { slug, page, context } = await newWorkspace(browser, "roam");
  await createProduct(page, slug, "Roaming lamp", "ROAM-1", "12.50", "4");
  await page.goto(`${workspaceUrl(slug)}/`);
  await hydrated(page);
  await markDocument(page);

  const nav = page.getByRole("navigation", { name: "Workspace" });
  const visits: [string, string | RegExp][] = [
    ["Products", "Products"],
    ["Orders", "Orders"],
    ["Customers", "Customers"],
    ["Exports", "Exports"],
    ["Team", "Team"],
    ["API", "API tokens"],
    ["Profile", "Your profile"],
  ];
  for (const [link, title] of visits) {
    await nav.getByRole("link", { name: link }).click();
    await heading(page, title);
  }
  await nav.getByRole("link", { name: "Products" }).click();
  await page.getByRole("link", { name: "Import from CSV" }).click();
  await heading(page, "Import products");
  await nav.getByRole("link", { name: "Products" }).click();
  await page.getByRole("link", { name: "Roaming lamp" }).click();
  await heading(page, "Roaming lamp");
  await nav.getByRole("link", { name: "Orders" }).click();
  await page.getByRole("link", { name: "New order" }).click();
  await heading(page, "New order");
  await sameDocument(page);

  // And back through the history, each screen as it was.
  const back: (string | RegExp)[] = ["Orders", "Roaming lamp", "Products", "Import products", "Products", "Your profile", "API tokens", "Team", "Exports", "Customers", "Orders", "Products", /^Welcome/];
  for (const title of back) {
    await page.goBack();
    await heading(page, title);
  }
  await sameDocument(page);
  await context.close();
});

test("a visitor moves between the public screens, and between the sign-in screens without a reload", async ({ browser }) => {
  const { slug, context: owner } = await newWorkspace(browser, "visit");
  const context = await browser.newContext();
  const page = await context.newPage();
  // The public site has no client-side router (its bundle goes without one): its links load
  // pages, each hydrated again by the one bundle, fetched once.
  const fetched = watchWasm(page);
  await page.goto(`${publicUrl}/`);
  await hydrated(page);
  await page.getByRole("link", { name: "Find it" }).click();
  await heading(page, "Find your workspace");
  await hydrated(page);
  await page.goBack();
  await page.getByRole("link", { name: "Create your workspace" }).click();
  await heading(page, "Create your workspace");
  await hydrated(page);
  await page.goBack();
  await expect(page.getByRole("link", { name: "Find it" })).toBeVisible();
  expect(fetched.size, "one bundle for the whole public site").toBe(1);

  await page.goto(`${workspaceUrl(slug)}/login`);
  await hydrated(page);
  await markDocument(page);
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await heading(page, "Forgot your password?");
  await page.getByRole("link", { name: "Back to sign-in" }).click();
  await heading(page, /^Sign in to/);
  await page.goBack();
  await heading(page, "Forgot your password?");
  await page.goBack();
  await heading(page, /^Sign in to/);
  await sameDocument(page);
  await context.close();
  await owner.close();
});

test("a platform admin moves through the console's screens and back without a reload", async ({ browser }) => {
  test.skip(!process.env.STOCKROOM_E2E_ADMIN_EMAIL, "./dev test creates the console account this needs");
  const { slug, context: owner } = await newWorkspace(browser, "console-roam");
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${consoleUrl}/`);
  await hydrated(page);
  await markDocument(page);
  await page.getByLabel("Email").fill(process.env.STOCKROOM_E2E_ADMIN_EMAIL!);
  await page.getByLabel("Password").fill(process.env.STOCKROOM_E2E_ADMIN_PASSWORD!);
  await page.getByRole("button", { name: "Sign in" }).click();
  await heading(page, "Tenants");
  await page.getByTestId("tenant-row").filter({ hasText: slug }).getByRole("link").click();
  await heading(page, `Shop ${slug}`);
  await page.getByRole("link", { name: "Audit log", exact: true }).click();
  await heading(page, "Audit log");
  await page.goBack();
  await heading(page, `Shop ${slug}`);
  await page.goBack();
  await heading(page, "Tenants");
  await sameDocument(page);
  await context.close();
  await owner.close();
});
