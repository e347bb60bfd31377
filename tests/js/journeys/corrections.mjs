// Consents and corrections journey: a learner signs in, opens her consents (each with the words
// she agreed to), withdraws the e-mail consent, then asks for a correction of one of her
// credentials (the form reached with that credential, as its page links to it) and sees it
// waiting. In `lang` ("en" or "zh"); on a phone (`device: "phone"`) she
// taps and every page must fit the screen's width.
// Input: { national_id, password, credential, lang, name, device? }.
import { journey, pageChecks, press } from "./browser.mjs";

journey(async ({ page, input, shot, axe, device }) => {
  const { violations, narrow, check } = pageChecks({ page, input, axe, shot, device });
  const url = (path) => `${input.base_url}${path}?lang=${input.lang}`;

  await page.goto(url("/sign-in"));
  await press(page, "#national_id");
  await page.keyboard.type(input.national_id);
  await press(page, "#password");
  await page.keyboard.type(input.password);
  await Promise.all([page.waitForURL("**/me"), press(page, "#password ~ button[type=submit]")]);

  await page.goto(url("/me/consents"));
  const listed = await page.evaluate(() => [...document.querySelectorAll("[data-purpose]")].map(
    (item) => [item.dataset.purpose, item.dataset.status]));
  await press(page, "[data-purpose=account] summary");
  const words = await page.evaluate(() => document.querySelector("[data-purpose=account] [data-consent-text]").textContent.trim());
  await check("consents");
  await Promise.all([page.waitForURL("**/me/consents?done=email-erased*"), press(page, "[data-purpose=email-notices] [data-withdraw]")]);
  const withdrawn = await page.evaluate(() => ({
    status: document.querySelector("[data-purpose=email-notices]").dataset.status,
    done: document.querySelector("[data-done]") !== null,
  }));

  await page.goto(`${url("/me/corrections")}&object=credential:${input.credential}`);
  await page.selectOption("#object", `credential:${input.credential}`);
  await press(page, "#request");
  await page.keyboard.type("My grade was B+, not B.");
  await Promise.all([page.waitForURL("**/me/corrections?sent=1*"), press(page, "[data-correction-form] button[type=submit]")]);
  const asked = await page.evaluate(() => ({
    sent: document.querySelector("[data-sent]") !== null,
    statuses: [...document.querySelectorAll("[data-correction]")].map((row) => row.dataset.status),
  }));
  await check("corrections");
  return { listed, words, withdrawn, asked, violations, narrow };
});
