// Pre-approval journey: the learner asks, from the planner on the progress page, for a
// pre-approval of the planned units; the institution's reviewer (another browser) approves it in
// the console; the learner sees the signed agreement recorded on the ledger, waits for the
// planned units' credentials (the test issues them), applies under the agreement and, once the
// reviews decide (the test again), sees the agreement honoured in the decision. On a phone the
// learner taps, and every learner page must fit the screen's width (`narrow` lists the others).
// Input: { national_id, password, reviewer, reviewer_password, complete_by, name, device?, locale? }.
import { journey, pageChecks, press } from "./browser.mjs";

const WAIT_MS = 60_000;
const POLL_MS = 300;

const h1 = (page) => page.evaluate(() => document.querySelector("h1").textContent.trim());

// Reload `page` until `selector` is there (what the test does off the browser takes a moment).
async function reloadUntil(page, selector) {
  const deadline = Date.now() + WAIT_MS;
  while ((await page.locator(selector).count()) === 0) {
    if (Date.now() > deadline) throw new Error(`${selector} never appeared on ${page.url()}`);
    await page.waitForTimeout(POLL_MS);
    await page.reload();
  }
}

journey(async ({ page, input, shot, axe, strangerPage, device }) => {
  const { violations, narrow, check } = pageChecks({ page, input, axe, shot, device });

  await page.goto(`${input.base_url}/sign-in`);
  await press(page, "#national_id");
  await page.keyboard.type(input.national_id);
  await press(page, "#password");
  await page.keyboard.type(input.password);
  await Promise.all([page.waitForURL("**/me"), press(page, "#password ~ button[type=submit]")]);

  // The plan on the progress page, and the request for a pre-approval under it.
  await page.goto(`${input.base_url}/me/progress`);
  await page.fill("[data-agreement-form] #complete_by", input.complete_by);
  await check("planner");
  await Promise.all([page.waitForURL("**/me/agreements/*"), press(page, "[data-agreement-form] button[type=submit]")]);
  const agreementUrl = page.url();
  const asked = await page.evaluate(() => ({
    status: document.querySelector("[data-status]").dataset.status,
    credits: document.querySelector("[data-agreed-credits]").textContent.trim(),
    units: [...document.querySelectorAll("[data-unit]")].map((item) => item.dataset.unit),
  }));
  await check("requested");
  await Promise.all([page.waitForURL("**/me/agreements"), press(page, ".breadcrumb a")]);
  const listHeading = await h1(page);
  await check("list");

  // The institution's reviewer approves it in the console.
  const staff = await strangerPage();
  await staff.goto(`${input.base_url}/staff/sign-in`);
  await staff.fill("#username", input.reviewer);
  await staff.fill("#password", input.reviewer_password);
  await Promise.all([staff.waitForURL("**/institution/**"), staff.click("form.card button[type=submit]")]);
  await staff.goto(`${input.base_url}/institution/agreements`);
  const console = { waiting: await staff.locator("section[data-agreement]").count() };
  const consoleHeading = await h1(staff);
  await check("console", staff, { fit: false });
  const request = staff.locator("section[data-agreement]").first();
  await request.locator("input[value=approve]").check();
  await Promise.all([staff.waitForEvent("load"), request.locator("button[type=submit]").click()]);
  console.notice = (await staff.locator(".notice").first().textContent()).trim();

  // The signed agreement, then the planned units in the record and the application under it.
  await page.goto(agreementUrl);
  await reloadUntil(page, "[data-credential=anchored]");
  await reloadUntil(page, "#apply");
  const signed = await page.evaluate(() => ({
    status: document.querySelector("[data-status]").dataset.status,
    credential: document.querySelector("[data-credential]").dataset.credential,
    apply: document.querySelector("#apply") !== null,
  }));
  const headings = { agreement: await h1(page), list: listHeading, console: consoleHeading,
                     lang: await page.evaluate(() => document.documentElement.lang) };
  await check("signed");
  await page.locator("#apply").scrollIntoViewIfNeeded();
  await Promise.all([page.waitForURL("**/me/applications/*"), press(page, "#apply")]);
  await reloadUntil(page, "[data-decision]");
  const decision = await page.evaluate(() => ({
    verdict: document.querySelector("[data-decision]").dataset.decision,
    honoured: document.querySelector("[data-agreement-honoured]")?.dataset.agreementHonoured ?? null,
    unmet: document.querySelector("[data-agreement-unmet]")?.dataset.agreementUnmet ?? null,
  }));
  await check("decision");
  return { asked, console, signed, decision, headings, violations, narrow };
});
