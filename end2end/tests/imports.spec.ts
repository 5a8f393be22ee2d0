import { expect } from "@playwright/test";
import { hydrated, newWorkspace, workspaceUrl, test } from "./helpers";

const csv = (text: string) => ({ name: "catalogue.csv", mimeType: "text/csv", buffer: Buffer.from(text) });

test("import products from a CSV file: a preview first, then the import", async ({ browser }) => {
  const { slug, page, context } = await newWorkspace(browser, "import");
  await page.goto(`${workspaceUrl(slug)}/products`);
  await page.getByRole("link", { name: "Import from CSV" }).click();
  await expect(page.getByRole("heading", { name: "Import products" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Download a template (CSV)" })).toBeVisible();

  // A file with bad lines: each is named with its reason, and nothing can be imported.
  await page.getByLabel("CSV file").setInputFiles(csv("sku,name,price,stock\nMUG-1,Mug,\"12,50\",3\nTEE-1,Tee,20,-1\n"));
  await page.getByRole("button", { name: "Upload and preview" }).click();
  await expect(page.getByTestId("import-status")).toContainText("2 of 2 lines have problems");
  await expect(page.getByTestId("import-row").first()).toContainText("Use a decimal point");
  await expect(page.getByRole("button", { name: /^Import/ })).toHaveCount(0);

  // A file that is not UTF-8: back to the page, which says what to do.
  await page.getByRole("link", { name: "Upload another file" }).click();
  await page.getByLabel("CSV file").setInputFiles({ name: "latin1.csv", mimeType: "text/csv", buffer: Buffer.from([0x73, 0x6b, 0x75, 0x0a, 0xe9]) });
  await page.getByRole("button", { name: "Upload and preview" }).click();
  await expect(page.getByTestId("import-problem")).toContainText("not UTF-8");

  // A good file: the preview says what would happen, the import does it.
  await page.getByLabel("CSV file").setInputFiles(csv('sku,name,price,stock,description\nMUG-1,"Mug, blue",12.50,3,Stoneware\nTEE-1,Tee,20,0,\n'));
  await page.getByRole("button", { name: "Upload and preview" }).click();
  await expect(page.getByTestId("import-status")).toContainText("2 new products");
  await expect(page.getByTestId("import-verdict")).toHaveText(["New", "New"]);
  await hydrated(page);
  await page.getByRole("button", { name: "Import 2 products" }).click();
  await expect(page.getByTestId("import-done")).toContainText("2 products added");
  await expect(page.getByTestId("import-verdict")).toHaveText(["Created", "Created"]);
  await page.goto(`${workspaceUrl(slug)}/products`);
  await expect(page.getByTestId("product-row")).toHaveCount(2);
  await context.close();
});
