// Employer journey: verify a credential by file upload, by pasting, or by keyboard only;
// then reopen the result's share link and read the same result again. On a phone the buttons are
// tapped, and the form and the result must fit the screen's width (`narrow` lists those that do not).
// Input: { credential_path, method: "file" | "paste" | "keyboard", name, lang?, device? }.
import { readFile } from "node:fs/promises";
import { fitsWidth, journey, press, readResult } from "./browser.mjs";

const MAX_TABS = 40;

journey(async ({ page, input, shot, axe, newPage, device }) => {
  const narrow = [];
  const fits = async (name) => {
    if (device !== "phone") return;
    const seen = await fitsWidth(page);
    if (!seen.fits) narrow.push(`${name}: ${seen.scrollWidth}px > ${seen.width}px (${seen.overflowing.join(", ")})`);
  };
  await page.goto(`${input.base_url}/verify${input.lang ? `?lang=${input.lang}` : ""}`);
  await fits("form");
  const formViolations = await axe();
  await shot(`${input.name}-form`);
  let focus = null;
  if (input.method === "file") {
    await page.setInputFiles("#file", input.credential_path);
    await Promise.all([page.waitForURL("**/verify/result/*"), press(page, "form[data-dropzone] button[type=submit]")]);
  } else if (input.method === "paste") {
    await page.fill("#credential", await readFile(input.credential_path, "utf8"));
    await Promise.all([page.waitForURL("**/verify/result/*"), press(page, "#credential ~ button[type=submit]")]);
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
  await fits("result");
  const resultViolations = await axe();
  await shot(`${input.name}-result`);
  const again = await newPage();
  await again.goto(first.link);
  const reopened = await readResult(again);
  return { focus, first, reopened, violations: [...formViolations, ...resultViolations], narrow };
});
