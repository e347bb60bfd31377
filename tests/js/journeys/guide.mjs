// Visitor journey: someone with no account opens the transfer guide from the home page, searches
// the catalogue for a certificate, picks it and sees every programme ranked Match, Maybe or Miss
// with credits and reasons, then opens the first programme's rules, a catalogue search and the
// certificate body's page. Every page is checked with axe and, on a phone (`device: "phone"`),
// must fit the screen's width.
// Input: { search, kind, unit, lang, name, device? }.
import { journey, pageChecks, press } from "./browser.mjs";

journey(async ({ page, input, shot, axe, device }) => {
  const { violations, narrow, check } = pageChecks({ page, input, axe, shot, device });
  const heading = () =>
    page.evaluate(() => ({ lang: document.documentElement.lang, h1: document.querySelector("h1").textContent.trim() }));

  await page.goto(`${input.base_url}/?lang=${input.lang}`);
  const home = await heading();
  await check("home");

  await Promise.all([page.waitForURL("**/guide"), press(page, "[data-home-guide]")]);
  const guide = await heading();
  await check("guide");

  await press(page, "#q");
  await page.keyboard.type(input.search);
  await page.selectOption("#kind", input.kind);
  await Promise.all([page.waitForURL("**/guide?*q=*"), press(page, "[data-guide-search] button[type=submit]")]);
  const results = await page.evaluate(() => [...document.querySelectorAll("[data-results] [data-unit]")].map((item) => item.dataset.unit));
  await check("search");

  await Promise.all([page.waitForURL("**/guide?*unit=*"), press(page, `[data-pick="${input.unit}"]`)]);
  const picked = await page.evaluate(() => ({
    picks: [...document.querySelectorAll("li[data-pick]")].map((item) => item.dataset.pick),
    share: document.querySelector("[data-share]")?.getAttribute("href") ?? null,
  }));
  const ranking = await page.evaluate(() =>
    [...document.querySelectorAll("[data-ranking] > li[data-programme]")].map((item) => ({
      programme: item.dataset.programme,
      class: item.dataset.class,
      label: item.querySelector("h3 [data-class]").textContent.trim(),
      match: item.dataset.match,
      maybe: item.dataset.maybe,
      lines: [...item.querySelectorAll("tr[data-line]")].map((line) => [
        line.dataset.line,
        line.querySelector("[data-credits]").textContent.trim(),
        line.querySelector("[data-reason]").textContent.trim().replace(/\s+/g, " "),
      ]),
    })),
  );
  await check("ranking");

  await Promise.all([page.waitForURL("**/programmes/*"), press(page, "[data-ranking] > li:first-child h3 a")]);
  const programme = await page.evaluate(() => ({
    h1: document.querySelector("h1").textContent.trim(),
    rules: document.querySelectorAll("tr[data-rule]").length,
  }));
  await check("programme");

  // The other public pages a visitor reaches from the top navigation, checked the same way.
  await page.goto(`${input.base_url}/catalogue?q=CERT&kind=certificate`);
  const catalogue = await page.evaluate(() => [...document.querySelectorAll("tr[data-unit]")].map((row) => row.dataset.unit));
  await check("catalogue");
  await page.goto(`${input.base_url}/institutions/${input.unit.split(":")[0]}`);
  const institution = await page.evaluate(() => document.querySelectorAll("[data-keys] tbody tr").length);
  await check("institution");

  return { home, guide, results, picked, ranking, programme, catalogue, institution, violations, narrow };
});
