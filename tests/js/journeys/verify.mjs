// Employer journey: verify a credential by file upload, by pasting, or by keyboard only;
// then reopen the result's share link and read the same result again.
// Input: { credential_path, method: "file" | "paste" | "keyboard", name, lang? }.
import { readFile } from "node:fs/promises";
import { journey, readResult } from "./browser.mjs";

const MAX_TABS = 40;

journey(async ({ page, input, shot, axe, newPage }) => {
  await page.goto(`${input.base_url}/verify${input.lang ? `?lang=${input.lang}` : ""}`);
  const formViolations = await axe();
  await shot(`${input.name}-form`);
  let focus = null;
  if (input.method === "file") {
    await page.setInputFiles("#file", input.credential_path);
    await Promise.all([page.waitForURL("**/verify/result/*"), page.click("form[data-dropzone] button[type=submit]")]);
  } else if (input.method === "paste") {
    await page.fill("#credential", await readFile(input.credential_path, "utf8"));
    await Promise.all([page.waitForURL("**/verify/result/*"), page.click("#credential ~ button[type=submit]")]);
  } else {
    focus = { tabs: 0 };
    const active = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);
    while ((await active()) !== "credential" && focus.tabs < MAX_TABS) {
      await page.keyboard.press("Tab");
      focus.tabs += 1;
    }
    focus.field = await active();
    focus.outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    await page.keyboard.insertText(await readFile(input.credential_path, "utf8"));
    await page.keyboard.press("Tab");
    focus.button = await page.evaluate(() => document.activeElement.textContent.trim());
    await shot(`${input.name}-focus`);
    await Promise.all([page.waitForURL("**/verify/result/*"), page.keyboard.press("Enter")]);
  }
  const first = await readResult(page);
  const resultViolations = await axe();
  await shot(`${input.name}-result`);
  const again = await newPage();
  await again.goto(first.link);
  const reopened = await readResult(again);
  return { focus, first, reopened, violations: [...formViolations, ...resultViolations] };
});
