// Both languages render: the browser's language picks the first page's language, and the
// language switch (a plain link) changes it. Input: { locale, name }.
import { journey } from "./browser.mjs";

const heading = (page) =>
  page.evaluate(() => ({ lang: document.documentElement.lang, h1: document.querySelector("h1").textContent.trim() }));

journey(async ({ page, input, shot, axe }) => {
  const pages = {};
  await page.goto(`${input.base_url}/verify`);
  pages.first = await heading(page);
  const violations = await axe();
  await shot(`${input.name}-verify-${pages.first.lang}`);
  await page.goto(`${input.base_url}/`);
  pages.home = await heading(page);
  await shot(`${input.name}-home-${pages.home.lang}`);
  await page.click(".languages a");
  pages.switched = await heading(page);
  await shot(`${input.name}-home-${pages.switched.lang}`);
  await page.goto(`${input.base_url}/verify`);
  pages.remembered = await heading(page);
  await shot(`${input.name}-verify-${pages.remembered.lang}`);
  violations.push(...(await axe()));
  return { pages, violations };
});
