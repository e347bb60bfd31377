// Citizen journey: sign in by keyboard, see the record, a credential, progress toward a
// programme, apply, share the credential; an employer (another browser, no cookies) opens the
// share link and sees it valid; the record and progress pages in Chinese.
// Input: { national_id, password, programme, name }.
import { journey, readResult } from "./browser.mjs";

const MAX_TABS = 30;

const heading = (page) =>
  page.evaluate(() => ({ lang: document.documentElement.lang, h1: document.querySelector("h1").textContent.trim() }));

journey(async ({ page, input, shot, axe, strangerPage }) => {
  const violations = [];
  const check = async (name) => {
    violations.push(...(await axe()).map((violation) => `${name}: ${violation}`));
    await shot(`${input.name}-${name}`);
  };

  // Sign in with the keyboard only.
  await page.goto(`${input.base_url}/sign-in?lang=en`);
  await check("sign-in");
  const focus = { tabs: 0 };
  const active = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);
  while ((await active()) !== "national_id" && focus.tabs < MAX_TABS) {
    await page.keyboard.press("Tab");
    focus.tabs += 1;
  }
  focus.field = await active();
  focus.outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  await page.keyboard.type(input.national_id);
  await page.keyboard.press("Tab");
  await page.keyboard.type(input.password);
  await Promise.all([page.waitForURL("**/me"), page.keyboard.press("Enter")]);

  const record = await page.evaluate(() => ({
    h1: document.querySelector("h1").textContent.trim(),
    credits: document.querySelector("[data-total-credits]").textContent.trim(),
    statuses: [...document.querySelectorAll("td[data-status]")].map((cell) => cell.dataset.status),
    titles: [...document.querySelectorAll("[data-credentials] tbody th a")].map((link) => link.textContent.trim()),
  }));
  await check("record");

  await page.click("[data-credentials] tbody tr:first-child th a");
  const credentialUrl = page.url();
  const credential = await page.evaluate(() => ({
    h1: document.querySelector("h1").textContent.trim(),
    verdict: document.querySelector("[data-verdict]").dataset.verdict,
  }));
  await check("credential");

  await page.click("text=Progress");
  await page.selectOption("#programme", input.programme);
  await Promise.all([page.waitForURL("**/me/progress"), page.click("form.inline-form button[type=submit]")]);
  const progress = await page.evaluate(() =>
    [...document.querySelectorAll("[data-requirement]")].map((item) => [item.dataset.requirement, item.dataset.counted, item.dataset.required]),
  );
  await check("progress");

  await Promise.all([page.waitForURL("**/me/applications/*"), page.click("[data-apply]")]);
  const application = await page.evaluate(() => ({
    h1: document.querySelector("h1").textContent.trim(),
    status: document.querySelector("[data-status]").dataset.status,
  }));
  await check("application");

  await page.goto(credentialUrl);
  await page.selectOption("#share-days", "30");
  await Promise.all([page.waitForURL("**/me/shares/*"), page.click("[data-share-form] button[type=submit]")]);
  const share = await page.evaluate(() => ({
    link: document.querySelector("#share-link").value,
    qr: document.querySelector(".qr-figure svg path") !== null,
    pdf: document.querySelector("[data-pdf]") !== null,
  }));
  await check("share");
  await page.click("text=Share links");
  await check("shares");

  const employer = await strangerPage();
  await employer.goto(share.link);
  const seen = await readResult(employer);
  violations.push(...(await axe(employer)).map((violation) => `employer: ${violation}`));
  await shot(`${input.name}-employer`, employer);

  const chinese = {};
  await page.goto(`${input.base_url}/me?lang=zh`);
  chinese.record = await heading(page);
  await check("record-zh");
  await page.goto(`${input.base_url}/me/progress`);
  chinese.progress = await heading(page);
  await check("progress-zh");
  await page.goto(`${input.base_url}/me/applications`);
  chinese.applications = await heading(page);
  await check("applications-zh");
  return { focus, record, credential, progress, application, share, seen, chinese, violations };
});
