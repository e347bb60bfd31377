// The consoles: the operator signs in, reads the statistics charts and approves a rule set;
// an institution's staff member signs in, opens a batch and revokes one of its credentials.
// Input: { operator, institution, password, rule_set, version }.
import { journey } from "./browser.mjs";

const heading = (page) => page.locator("h1").first().textContent();
const notice = (page) => page.locator(".notice").first().textContent();

async function signIn(page, input, username) {
  await page.goto(`${input.base_url}/staff/sign-in`);
  await page.fill("#username", username);
  await page.fill("#password", input.password);
  await page.click("form.card button[type=submit]");
}

async function signOut(page) {
  await page.click(".sign-out button");
}

journey(async ({ page, input, shot, axe }) => {
  const seen = { violations: [] };
  const check = async (name) => {
    seen.violations.push(...(await axe()).map((violation) => `${name}: ${violation}`));
    await shot(`consoles-${name}`);
  };

  await page.goto(`${input.base_url}/staff/sign-in`);
  await check("sign-in");
  await signIn(page, input, input.operator);
  seen.operator_home = { path: new URL(page.url()).pathname, title: (await heading(page)).trim() };
  seen.charts = await page.locator(".chart svg").count();
  seen.bars = await page.locator(".chart svg rect.bar").count();
  await check("operator-statistics");

  await page.click(".console-nav a[href$='/operator/rules']");
  const waiting = page.locator("table").first();
  seen.waiting_before = (await waiting.locator("tbody tr").allTextContents()).map((row) => row.replace(/\s+/g, " ").trim());
  await check("operator-rules");
  await waiting.locator(`form:has(input[name=version][value="${input.version}"]) button`).click();
  seen.approved_notice = (await notice(page)).trim();
  seen.waiting_after = await waiting.locator("form").count();
  await check("operator-rules-approved");
  await page.click(".console-nav a[href$='/operator/issuers']");
  await check("operator-issuers");
  await signOut(page);

  await signIn(page, input, input.institution);
  seen.institution_home = { path: new URL(page.url()).pathname, title: (await heading(page)).trim() };
  seen.batch_rows = await page.locator("table tbody tr").count();
  await check("institution-batches");
  await page.locator("table tbody tr a").first().click();
  await check("institution-batch");
  await page.locator("table tbody tr a").first().click();
  seen.credential_status_before = (await page.locator(".badge").first().textContent()).trim();
  await page.selectOption("#credential-reason", "issued-in-error");
  await page.fill("#credential-note", "wrong grade entered");
  await page.click("form.revoke button[type=submit]");
  seen.revoked_notice = (await notice(page)).trim();
  seen.credential_status_after = (await page.locator(".badge").first().textContent()).trim();
  await check("institution-credential-revoked");
  await page.click(".console-nav a[href$='/institution/units']");
  await check("institution-units");
  return seen;
});
