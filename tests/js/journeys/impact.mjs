// An institution's reviewer pastes a new version of a rule set, sees whom it affects (who gains
// or loses credits, line by line) before publishing, publishes it, and reads the kept summary.
// Input: { institution, password, document, language, name }.
import { journey } from "./browser.mjs";

// The impact as the page shows it: totals, each affected learner and each changed line.
const readImpact = (page) =>
  page.evaluate(() => {
    const text = (element) => element?.textContent.replace(/\s+/g, " ").trim() ?? null;
    const cells = (row) => [...row.querySelectorAll("th, td")].map(text);
    return {
      lang: document.documentElement.lang,
      h1: text(document.querySelector("h1")),
      title: text(document.querySelector("#impact-title")),
      notice: text(document.querySelector(".notice")),
      totals: Object.fromEntries([...document.querySelectorAll("dd[data-total]")].map((dd) => [dd.dataset.total, text(dd)])),
      learners: [...document.querySelectorAll("tr.impact-learner")].map((row) => ({ change: row.dataset.change, cells: cells(row) })),
      lines: [...document.querySelectorAll("tr.impact-line")].map((row) => ({ effect: row.dataset.effect, cells: cells(row) })),
    };
  });

journey(async ({ page, input, shot, axe }) => {
  const seen = { violations: [] };
  const check = async (name) => {
    seen.violations.push(...(await axe()).map((violation) => `${name}: ${violation}`));
    await shot(`${input.name}-${name}`);
  };

  await page.goto(`${input.base_url}/staff/sign-in?lang=${input.language}`);
  await page.fill("#username", input.institution);
  await page.fill("#password", input.password);
  await page.click("form.card button[type=submit]");
  await page.click(".console-nav a[href$='/institution/rules']");
  await page.fill("#document", input.document);
  await page.click("#publish button[type=submit]");
  seen.preview = await readImpact(page);
  seen.publish_button = (await page.locator("#publish-previewed button").textContent()).trim();
  await check("preview");

  await page.click("#publish-previewed button");
  seen.path = new URL(page.url()).pathname;
  seen.kept = await readImpact(page);
  await check("kept");
  await page.click(".console-nav a[href$='/institution/rules']");
  seen.listed = await page.locator(`a[href='${seen.path}']`).count();
  return seen;
});
