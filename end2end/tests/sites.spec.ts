import { expect, Page } from "@playwright/test";
import { hydrated, newWorkspace, port, publicUrl, workspaceUrl, test } from "./helpers";

const consoleUrl = `http://admin.localhost:${port}`;

/** Records every response of the page that answers 404. */
function watchNotFound(page: Page) {
  const seen: string[] = [];
  page.on("response", (response) => {
    if (response.status() === 404) seen.push(`${response.request().method()} ${response.url()}`);
  });
  return seen;
}

async function signInToConsole(page: Page) {
  const admin = process.env.STOCKROOM_E2E_ADMIN_EMAIL!;
  const password = process.env.STOCKROOM_E2E_ADMIN_PASSWORD!;
  await page.getByLabel("Email").fill(admin);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("signing in to the console shows the tenant list without a reload", async ({ browser }) => {
  test.skip(!process.env.STOCKROOM_E2E_ADMIN_EMAIL, "./dev test creates the console account this needs");
  const { slug, context: owner } = await newWorkspace(browser, "listed");
  const context = await browser.newContext();
  const page = await context.newPage();
  const notFound = watchNotFound(page);
  await page.goto(`${consoleUrl}/`);
  await hydrated(page);
  const loads: string[] = [];
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) loads.push(frame.url());
  });
  await signInToConsole(page);
  await expect(page.getByTestId("tenant-row").filter({ hasText: slug })).toBeVisible();
  await expect(page.getByText("Please sign in to continue.")).toHaveCount(0);
  expect(loads, "no full page load after signing in").toEqual([]);
  expect(notFound).toEqual([]);
  await context.close();
  await owner.close();
});

test("no page of any site asks for something that is not there", async ({ browser }) => {
  test.skip(!process.env.STOCKROOM_E2E_ADMIN_EMAIL, "./dev test creates the console account this needs");
  const { slug, page: member, context: memberContext } = await newWorkspace(browser, "quiet");
  const visitor = await browser.newContext();
  const anonymous = await visitor.newPage();
  const admin = await (await browser.newContext()).newPage();
  const pages: [Page, string][] = [
    [anonymous, `${publicUrl}/`],
    [anonymous, `${publicUrl}/register`],
    [anonymous, `${publicUrl}/find`],
    [anonymous, `${workspaceUrl(slug)}/login`],
    [anonymous, `${workspaceUrl(slug)}/forgot`],
    [member, `${workspaceUrl(slug)}/`],
    [member, `${workspaceUrl(slug)}/products`],
    [member, `${workspaceUrl(slug)}/products/new`],
    [member, `${workspaceUrl(slug)}/orders`],
    [member, `${workspaceUrl(slug)}/orders/new`],
    [member, `${workspaceUrl(slug)}/team`],
    [member, `${workspaceUrl(slug)}/profile`],
    [member, `${workspaceUrl(slug)}/exports`],
    [admin, `${consoleUrl}/`],
  ];
  const seen = new Map<Page, string[]>([
    [anonymous, watchNotFound(anonymous)],
    [member, watchNotFound(member)],
    [admin, watchNotFound(admin)],
  ]);
  for (const [page, url] of pages) {
    await page.goto(url);
    await hydrated(page);
    // Let the resources a page fetches after hydration answer.
    await page.waitForLoadState("networkidle");
    expect(seen.get(page), url).toEqual([]);
  }
  await signInToConsole(admin);
  await expect(admin.getByTestId("tenant-row").first()).toBeVisible();
  for (const path of ["/audit", `/tenants/${slug}`, "/"]) {
    await admin.goto(`${consoleUrl}${path}`);
    await hydrated(admin);
    await admin.waitForLoadState("networkidle");
    expect(seen.get(admin), path).toEqual([]);
  }
  await visitor.close();
  await memberContext.close();
  await admin.context().close();
});
