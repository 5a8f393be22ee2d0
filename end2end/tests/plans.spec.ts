import * as fs from "node:fs";
import { expect } from "@playwright/test";
import { consoleSignedIn, consoleUrl, createProduct, hydrated, newWorkspace, workspaceUrl, test } from "./helpers";

test("a console admin upgrades a FREE workspace to PRO and its CSV export starts working", async ({ browser }) => {
  test.skip(
    !process.env.STOCKROOM_E2E_ADMIN_EMAIL || !process.env.STOCKROOM_E2E_ADMIN_PASSWORD,
    "./dev test creates the console account this needs",
  );

  const { slug, page: owner, context } = await newWorkspace(browser, "plans");
  await createProduct(owner, slug, "Green mug", "MUG-GREEN", "9.50", "4");

  // FREE: the export is offered but locked, with an upgrade prompt, and usage is shown.
  await owner.goto(`${workspaceUrl(slug)}/exports`);
  await hydrated(owner);
  await expect(owner.getByTestId("upgrade-prompt")).toContainText("Pro and Enterprise");
  await expect(owner.getByRole("button", { name: "Export products" })).toBeDisabled();
  await owner.goto(`${workspaceUrl(slug)}/products`);
  await expect(owner.getByTestId("product-usage")).toHaveText("1 / 100 products");

  // The platform admin upgrades the workspace in the console.
  const { page: consolePage, context: consoleContext } = await consoleSignedIn(browser);
  await consolePage.getByRole("search").getByRole("searchbox").fill(slug);
  await consolePage.getByRole("button", { name: "Search" }).click();
  const row = consolePage.getByTestId("tenant-row").filter({ hasText: slug });
  await expect(row.getByTestId("tenant-plan")).toHaveText("Free");
  await row.getByRole("link").first().click();
  await hydrated(consolePage);
  await consolePage.getByTestId("plan-select").selectOption("PRO");
  await consolePage.getByRole("button", { name: "Change plan" }).click();
  await expect(consolePage.getByRole("status").filter({ hasText: "Plan changed" })).toBeVisible();
  await consolePage.goto(`${consoleUrl}/audit?tenant=${slug}`);
  await expect(consolePage.getByTestId("audit-action").first()).toHaveText("change_plan");
  await consoleContext.close();

  // The workspace's next request sees PRO: the export runs and produces a CSV.
  await owner.goto(`${workspaceUrl(slug)}/exports`);
  await hydrated(owner);
  await expect(owner.getByTestId("upgrade-prompt")).toHaveCount(0);
  await owner.getByRole("button", { name: "Export products" }).click();
  const download = owner.getByTestId("export-download").first();
  await expect(download).toBeVisible({ timeout: 20_000 });
  const [file] = await Promise.all([owner.waitForEvent("download"), download.click()]);
  expect(file.suggestedFilename()).toMatch(new RegExp(`^${slug}-products-.*\\.csv$`));
  const csv = fs.readFileSync((await file.path())!, "utf8");
  expect(csv.split("\n")[0]).toBe("sku,name,description,price,currency,stock,archived,created_at");
  expect(csv).toContain("MUG-GREEN,Green mug,,9.50,USD,4,no,");
  await context.close();
});
