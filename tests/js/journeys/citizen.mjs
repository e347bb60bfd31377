// Citizen journey: sign in by keyboard, see the record, a credential, progress toward a
// programme, apply, share the credential; an employer (another browser, no cookies) opens the
// share link and sees it valid; the record and progress pages in Chinese. On a phone
// (`device: "phone"`) the learner taps instead of typing Tab, and every page must fit the
// screen's width (the overflowing pages are returned in `narrow`).
// Input: { national_id, password, programme, name, device? }.
import { journey, pageChecks, press, qrCode, readResult } from "./browser.mjs";

const MAX_TABS = 30;

const heading = (page) =>
  page.evaluate(() => ({ lang: document.documentElement.lang, h1: document.querySelector("h1").textContent.trim() }));

journey(async ({ page, input, shot, axe, strangerPage, device }) => {
  const { violations, narrow, fits, check } = pageChecks({ page, input, axe, shot, device });

  // Sign in with the keyboard only (on a phone: tap each field and the button).
  await page.goto(`${input.base_url}/sign-in?lang=en`);
  await check("sign-in");
  const active = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);
  let focus = null;
  if (device === "phone") {
    await press(page, "#national_id");
    await page.keyboard.type(input.national_id);
    await press(page, "#password");
    await page.keyboard.type(input.password);
    await Promise.all([page.waitForURL("**/me"), press(page, "#password ~ button[type=submit]")]);
  } else {
    focus = { tabs: 0 };
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
  }

  const record = await page.evaluate(() => ({
    h1: document.querySelector("h1").textContent.trim(),
    credits: document.querySelector("[data-total-credits]").textContent.trim(),
    statuses: [...document.querySelectorAll("td[data-status]")].map((cell) => cell.dataset.status),
    titles: [...document.querySelectorAll("[data-credentials] tbody th a")].map((link) => link.textContent.trim()),
  }));
  await check("record");

  await Promise.all([page.waitForURL("**/me/credentials/*"), press(page, "[data-credentials] tbody tr:first-child th a")]);
  const credentialUrl = page.url();
  const credential = await page.evaluate(() => ({
    h1: document.querySelector("h1").textContent.trim(),
    verdict: document.querySelector("[data-verdict]").dataset.verdict,
  }));
  await check("credential");

  await Promise.all([page.waitForURL("**/me/progress"), press(page, ".section-nav >> text=Progress")]);
  await page.selectOption("#programme", input.programme);
  await Promise.all([page.waitForEvent("load"), press(page, "form.inline-form button[type=submit]")]);
  const progress = await page.evaluate(() =>
    [...document.querySelectorAll("[data-requirement]")].map((item) => [item.dataset.requirement, item.dataset.counted, item.dataset.required]),
  );
  await check("progress");

  await Promise.all([page.waitForURL("**/me/applications/*"), press(page, "[data-apply]")]);
  const application = await page.evaluate(() => ({
    h1: document.querySelector("h1").textContent.trim(),
    status: document.querySelector("[data-status]").dataset.status,
  }));
  await check("application");

  await page.goto(credentialUrl);
  await page.selectOption("#share-days", "30");
  await Promise.all([page.waitForURL("**/me/shares/*"), press(page, "[data-share-form] button[type=submit]")]);
  const share = await page.evaluate(() => ({
    link: document.querySelector("#share-link").value,
    qr: document.querySelector(".qr-figure svg path") !== null,
    pdf: document.querySelector("[data-pdf]") !== null,
  }));
  share.code = await qrCode(page);
  await check("share");
  await Promise.all([page.waitForURL("**/me/shares"), press(page, ".section-nav >> text=Share links")]);
  await check("shares");
  await Promise.all([page.waitForURL("**/me/deposits"), press(page, ".section-nav >> text=Deposits")]);
  await check("deposits");
  await Promise.all([page.waitForURL("**/me/transcripts"), press(page, ".section-nav >> text=Transcripts")]);
  await check("transcripts");

  const employer = await strangerPage();
  await employer.goto(share.link);
  const seen = await readResult(employer);
  seen.code = await qrCode(employer);
  violations.push(...(await axe(employer)).map((violation) => `employer: ${violation}`));
  await fits("employer", employer);
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
  return { focus, record, credential, progress, application, share, seen, chinese, violations, narrow };
});
