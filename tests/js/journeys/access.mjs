// "Who looked at my record" journey: a learner signs in, opens her data hub, follows its link to
// the access log, reads who looked at her application and why, and taps "Older" for the next page.
// On a phone (`device: "phone"`) she taps and every page must fit the screen's width.
// Input: { national_id, password, lang, name, device? }.
import { journey, pageChecks, press } from "./browser.mjs";

journey(async ({ page, input, shot, axe, device }) => {
  const { violations, narrow, check } = pageChecks({ page, input, axe, shot, device });
  await page.goto(`${input.base_url}/sign-in?lang=${input.lang}`);
  await press(page, "#national_id");
  await page.keyboard.type(input.national_id);
  await press(page, "#password");
  await page.keyboard.type(input.password);
  await Promise.all([page.waitForURL("**/me"), press(page, "#password ~ button[type=submit]")]);

  await page.goto(`${input.base_url}/me/data`);
  await Promise.all([page.waitForURL("**/me/access"), press(page, "a[href='/me/access']")]);
  const read = () => page.evaluate(() => ({
    h1: document.querySelector("h1").textContent.trim(),
    rows: [...document.querySelectorAll("tr[data-read]")].map((row) => ({
      purpose: row.dataset.purpose,
      cells: [...row.querySelectorAll("th, td")].map((cell) => cell.textContent.replace(/\s+/g, " ").trim()),
      link: row.querySelector("a")?.getAttribute("href") ?? null,
    })),
    older: document.querySelector("[data-older]") !== null,
  }));
  const first = await read();
  await check("newest");
  await Promise.all([page.waitForURL("**/me/access?before=*"), press(page, "[data-older]")]);
  const second = await read();
  await check("older");
  return { first, second, violations, narrow };
});
