// Minors and data rights: a guardian signs in through the city's sign-on (the tests' OpenID
// provider consents at once), opens a child's account with their consent and sees the activation
// code; then a learner signs in, downloads everything the bank holds about her as JSON and PDF
// from "My data", and sees on "Who looked at my record" that an institution's reviewer opened her
// application. In `lang` ("en" or "zh"); on a phone (`device: "phone"`) pages must fit the width.
// Input: { child_national_id, child_name, national_id, password, lang, name, device? }.
import { journey, pageChecks, press } from "./browser.mjs";

journey(async ({ page, input, shot, axe, device }) => {
  const { violations, narrow, check } = pageChecks({ page, input, axe, shot, device });
  const url = (path) => `${input.base_url}${path}?lang=${input.lang}`;
  const heading = () => page.evaluate(() => ({
    lang: document.documentElement.lang,
    h1: document.querySelector("h1").textContent.trim(),
  }));

  await page.goto(url("/guardian/sign-in"));
  await check("guardian-sign-in");
  await Promise.all([page.waitForURL("**/guardian"), press(page, "[data-guardian-sign-in]")]);
  const guardianHome = await heading();
  await check("guardian-home");

  await press(page, ".section-nav a[href='/guardian/minors/new']");
  await page.waitForURL("**/guardian/minors/new");
  await press(page, "#national_id");
  await page.keyboard.type(input.child_national_id);
  await press(page, "#display_name");
  await page.keyboard.type(input.child_name);
  const consent = await page.evaluate(() => ({
    version: document.querySelector("[data-consent-version]").dataset.consentVersion,
    words: document.querySelector("[data-consent-version]").textContent.trim(),
  }));
  await check("guardian-consent");
  await press(page, "#consent");
  await Promise.all([page.waitForEvent("load"), press(page, "form.card button[type=submit]")]);
  const opened = {
    ...(await heading()),
    code: await page.evaluate(() => document.querySelector("[data-activation-code]")?.textContent.trim() ?? null),
  };
  await check("guardian-opened");
  await page.goto(url("/guardian"));
  const wards = await page.evaluate(() =>
    [...document.querySelectorAll("[data-ward]")].map((row) => [...row.querySelectorAll("th, td")].map((cell) => cell.textContent.trim())),
  );
  await Promise.all([page.waitForURL(`${input.base_url}/`), press(page, ".sign-out button")]);

  await page.goto(url("/sign-in"));
  await press(page, "#national_id");
  await page.keyboard.type(input.national_id);
  await press(page, "#password");
  await page.keyboard.type(input.password);
  await Promise.all([page.waitForURL("**/me"), press(page, "#password ~ button[type=submit]")]);

  await page.goto(url("/me/data"));
  const data = await heading();
  await check("my-data");
  const download = async (selector) => {
    const href = await page.getAttribute(selector, "href");
    const response = await page.request.get(`${input.base_url}${href}`);
    return { status: response.status(), type: response.headers()["content-type"], body: await response.body() };
  };
  const json = await download("[data-export-json]");
  const exported = JSON.parse(json.body.toString("utf8"));
  const pdf = await download("[data-export-pdf]");

  await page.goto(url("/me/access"));
  const access = {
    ...(await heading()),
    reads: await page.evaluate(() =>
      [...document.querySelectorAll("[data-read]")].map((row) => ({
        purpose: row.dataset.purpose,
        cells: [...row.querySelectorAll("th, td")].map((cell) => cell.textContent.replace(/\s+/g, " ").trim()),
      })),
    ),
  };
  await check("my-access");

  return {
    guardianHome,
    consent,
    opened,
    wards,
    data,
    json: { status: json.status, type: json.type, learner: exported.learner?.id ?? null, format: exported.format ?? null },
    pdf: { status: pdf.status, type: pdf.type, magic: pdf.body.subarray(0, 5).toString("latin1") },
    access,
    violations,
    narrow,
  };
});
