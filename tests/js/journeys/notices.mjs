// Notices journey: a learner signs in, gives an e-mail address and chooses to get "decision made"
// by e-mail; the city centre decides her application meanwhile (pytest does, once it sees the
// choice); the notice arrives in her inbox (the menu counts it unread) with its link, and she
// opens it and marks it read. In `lang` ("en" or "zh"); on a phone (`device: "phone"`) she taps
// and every page must fit the screen's width.
// Input: { national_id, password, email, lang, name, device? }.
import { journey, pageChecks, press } from "./browser.mjs";

const WAIT_MS = 30_000;

journey(async ({ page, input, shot, axe, device }) => {
  const { violations, narrow, check } = pageChecks({ page, input, axe, shot, device });
  const url = (path) => `${input.base_url}${path}?lang=${input.lang}`;

  await page.goto(url("/sign-in"));
  await press(page, "#national_id");
  await page.keyboard.type(input.national_id);
  await press(page, "#password");
  await page.keyboard.type(input.password);
  await Promise.all([page.waitForURL("**/me"), press(page, "#password ~ button[type=submit]")]);

  await page.goto(url("/me/notices"));
  await check("inbox-empty");
  await press(page, "#email");
  await page.keyboard.type(input.email);
  await press(page, "input[name=kinds][value=decision_made]");
  await Promise.all([page.waitForURL("**/me/notices?saved=1"), press(page, "[data-preferences] button[type=submit]")]);
  const saved = await page.evaluate(() => ({
    email: document.querySelector("#email").value,
    kinds: [...document.querySelectorAll("input[name=kinds]:checked")].map((box) => box.value),
    status: document.querySelector("[role=status]")?.textContent.trim() ?? null,
  }));

  const started = Date.now();
  while (Date.now() - started < WAIT_MS) {
    await page.goto(url("/me/notices"));
    if (await page.$("[data-kind=decision_made]")) break;
    await page.waitForTimeout(300);
  }
  const inbox = await page.evaluate(() => {
    const item = document.querySelector("[data-kind=decision_made]");
    return {
      h1: document.querySelector("h1").textContent.trim(),
      unread: document.querySelector(".section-nav [data-unread]")?.dataset.unread ?? null,
      title: item?.querySelector("h2").textContent.replace(/\s+/g, " ").trim() ?? null,
      text: item?.querySelector("[data-text]").textContent.trim() ?? null,
      link: item?.querySelector("[data-link]").getAttribute("href") ?? null,
      isNew: item?.hasAttribute("data-unread") ?? false,
    };
  });
  await check("inbox");

  await Promise.all([page.waitForURL("**/me/applications/*"), press(page, "[data-kind=decision_made] [data-link]")]);
  const opened = { path: new URL(page.url()).pathname, h1: await page.evaluate(() => document.querySelector("h1").textContent.trim()) };
  await page.goto(url("/me/notices"));
  await Promise.all([page.waitForEvent("load"), press(page, "[data-mark-read]")]);
  const after = await page.evaluate(() => ({
    unread: document.querySelectorAll("[data-notice][data-unread]").length,
    counted: document.querySelector(".section-nav [data-unread]") !== null,
  }));
  await check("inbox-read");
  return { saved, inbox, opened, after, violations, narrow };
});
