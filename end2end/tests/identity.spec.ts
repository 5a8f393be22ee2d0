import * as fs from "node:fs";
import * as path from "node:path";
import { expect, Page } from "@playwright/test";
import { hydrated, publicUrl, uniqueSlug, workspaceUrl, test } from "./helpers";

async function register(page: Page, slug: string, email: string, password: string) {
  await page.goto(`${publicUrl}/register?slug=${slug}`);
  await hydrated(page);
  await page.getByLabel("Business name").fill(`Shop ${slug}`);
  await expect(page.getByLabel("Workspace address")).toHaveValue(slug);
  await page.getByLabel("Your name").fill("Olive Owner");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create workspace" }).click();
  await expect(page).toHaveURL(workspaceUrl(slug) + "/");
  await expect(page.getByTestId("dashboard-heading")).toHaveText("Welcome, Olive Owner");
}

async function signIn(page: Page, slug: string, email: string, password: string) {
  await page.goto(workspaceUrl(slug) + "/login");
  await hydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("register, land signed in, sign out, sign in again", async ({ page }) => {
  const slug = uniqueSlug("flow");
  await register(page, slug, "olive@example.com", "olive-secret-42");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(workspaceUrl(slug) + "/login");
  await page.goto(workspaceUrl(slug) + "/");
  await expect(page).toHaveURL(workspaceUrl(slug) + "/login");

  await signIn(page, slug, "olive@example.com", "olive-secret-42");
  await expect(page.getByTestId("dashboard-heading")).toHaveText("Welcome, Olive Owner");
});

test("registration shows each error beside its field and keeps what was typed", async ({ page }) => {
  const taken = uniqueSlug("taken");
  await register(page, taken, "first@example.com", "first-secret-42");

  await page.goto(`${publicUrl}/register`);
  await hydrated(page);
  await page.getByLabel("Business name").fill("Second Shop");
  await page.getByLabel("Workspace address").fill(taken);
  await expect(page.locator("#field-slug-error")).toHaveText(/already taken/);
  await page.getByLabel("Your name").fill("Sam");
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Create workspace" }).click();

  await expect(page.locator("#field-email-error")).toHaveText(/email address like/);
  await expect(page.locator("#field-password-error")).toHaveText(/at least 10 characters/);
  await expect(page.getByLabel("Business name")).toHaveValue("Second Shop");
  await expect(page.getByLabel("Email")).toHaveValue("not-an-email");

  await page.getByLabel("Email").fill("sam@example.com");
  await page.getByLabel("Password").fill("sam-secret-4242");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await expect(page.locator("#field-slug-error")).toHaveText(/already taken/);
  await expect(page).toHaveURL(/\/register/);
});

test("one email in two workspaces signs into each with its own password", async ({ browser }) => {
  const a = uniqueSlug("twin-a");
  const b = uniqueSlug("twin-b");
  const email = `twin-${Date.now()}@example.com`;
  for (const [slug, password] of [
    [a, "password-for-a-1"],
    [b, "password-for-b-2"],
  ]) {
    const context = await browser.newContext();
    await register(await context.newPage(), slug, email, password);
    await context.close();
  }

  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, a, email, "password-for-b-2");
  await expect(page.getByRole("alert")).toHaveText(/don't match an account/);
  await signIn(page, a, email, "password-for-a-1");
  await expect(page.getByTestId("dashboard-heading")).toBeVisible();
  await signIn(page, b, email, "password-for-b-2");
  await expect(page.getByTestId("dashboard-heading")).toBeVisible();
  await context.close();
});

test("the session cookie of one workspace signs nobody into another", async ({ browser }) => {
  const a = uniqueSlug("cookie-a");
  const b = uniqueSlug("cookie-b");
  const context = await browser.newContext();
  const page = await context.newPage();
  await register(page, b, "bob@example.com", "bob-secret-4242");
  await register(page, a, "alice@example.com", "alice-secret-42");

  const cookies = await context.cookies(workspaceUrl(a));
  const session = cookies.find((c) => c.name === "stockroom_session");
  expect(session, "workspace A set a session cookie").toBeTruthy();
  // Host-only: the browser itself never sends A's cookie to B.
  expect(session!.domain).toBe(`${a}.localhost`);

  // Replayed by hand on B's host, the cookie is refused, not honoured.
  const replay = await browser.newContext();
  await replay.addCookies([{ ...session!, domain: `${b}.localhost`, path: "/" }]);
  const replayPage = await replay.newPage();
  const response = await replayPage.goto(workspaceUrl(b) + "/");
  expect(response?.status()).toBe(403);
  await expect(replayPage.getByTestId("dashboard-heading")).toHaveCount(0);
  await replay.close();
  await context.close();
});

test("find my workspace emails the sign-in links without saying who exists", async ({ page, browser }) => {
  const slug = uniqueSlug("findme");
  const email = `finder-${Date.now()}@example.com`;
  const context = await browser.newContext();
  await register(await context.newPage(), slug, email, "finder-secret-42");
  await context.close();

  for (const address of [email, `nobody-${Date.now()}@example.com`]) {
    await page.goto(`${publicUrl}/find`);
    await hydrated(page);
    await page.getByLabel("Email").fill(address);
    await page.getByRole("button", { name: "Email me my workspaces" }).click();
    await expect(page.getByTestId("find-sent")).toContainText("If that address belongs to any workspaces");
  }

  const outbox = process.env.STOCKROOM_E2E_OUTBOX;
  test.skip(!outbox, "the outbox directory is only known when ./dev test starts the server");
  const messages = fs
    .readdirSync(outbox!)
    .filter((f) => f.endsWith(".eml"))
    .map((f) => fs.readFileSync(path.join(outbox!, f), "utf8"))
    // Quoted-printable folds long lines with a trailing "="; unfold before reading.
    .map((m) => m.replace(/=\r?\n/g, ""))
    .filter((m) => m.includes(`To: ${email}`));
  expect(messages).toHaveLength(1);
  expect(messages[0]).toContain(`${workspaceUrl(slug)}/login`);
});
