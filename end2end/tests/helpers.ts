import { expect, Page } from "@playwright/test";

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
