// Planner journey: a learner signs in, aims at a programme, searches the catalogue for MOOCs and
// adds two to the plan, sees the requirements rise (earned and planned apart, planned lines
// marked), then compares two programmes side by side. In the language `lang` ("en" or "zh"); on
// a phone (`device: "phone"`) every tap is a tap and every page must fit the screen's width.
// Input: { national_id, password, programme, other, search, units: [ref, ref], lang, name, device? }.
import { journey, pageChecks, press } from "./browser.mjs";

const requirements = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll("[data-requirement]")].map((item) => ({
      id: item.dataset.requirement,
      counted: item.dataset.counted,
      earned: item.dataset.earned ?? null,
      planned: item.dataset.planned ?? null,
    })),
  );

journey(async ({ page, input, shot, axe, device }) => {
  const { violations, narrow, check } = pageChecks({ page, input, axe, shot, device });
  const go = (selector) => Promise.all([page.waitForEvent("load"), press(page, selector)]);

  await page.goto(`${input.base_url}/sign-in?lang=${input.lang}`);
  await press(page, "#national_id");
  await page.keyboard.type(input.national_id);
  await press(page, "#password");
  await page.keyboard.type(input.password);
  await Promise.all([page.waitForURL("**/me"), press(page, "#password ~ button[type=submit]")]);

  await page.goto(`${input.base_url}/me/progress`);
  await page.selectOption("#programme", input.programme);
  await go("form.inline-form button[type=submit]");
  const heading = await page.evaluate(() => ({ lang: document.documentElement.lang, h1: document.querySelector("h1").textContent.trim() }));
  const before = await requirements(page);
  await check("progress");

  await press(page, "#q");
  await page.keyboard.type(input.search);
  await go("[data-catalogue-search] button[type=submit]");
  const found = await page.evaluate(() => [...document.querySelectorAll("[data-result]")].map((item) => item.dataset.result));
  await check("search");

  for (const ref of input.units) await go(`[data-results] [data-add="${ref}"]`);
  const after = await requirements(page);
  const planned = await page.evaluate(() => ({
    units: [...document.querySelectorAll("[data-planned-unit]")].map((row) => row.dataset.plannedUnit),
    lines: [...document.querySelectorAll("[data-planned-line]")].map((tag) => tag.closest("th").firstChild.textContent.trim()),
    tag: document.querySelector("[data-planned-line]")?.textContent.trim() ?? null,
    stillSearching: document.querySelector("#q").value,
    gaps: [...document.querySelectorAll("[data-gap]")].map((gap) => gap.dataset.gap),
  }));
  await check("planned");

  await press(page, `[data-compare-form] input[value="${input.other}"]`);
  await go("[data-compare-form] button[type=submit]");
  const compared = await page.evaluate(() =>
    [...document.querySelectorAll("tr[data-programme]")].map((row) => ({
      programme: row.dataset.programme,
      now: row.querySelector("[data-now]")?.textContent.trim(),
      withPlan: row.querySelector("[data-with-plan]")?.textContent.trim(),
      missing: row.querySelector("[data-missing]")?.textContent.trim(),
      complete: row.querySelector("[data-complete]")?.dataset.complete,
    })),
  );
  await check("compared");
  return { heading, before, found, after, planned, compared, violations, narrow };
});
