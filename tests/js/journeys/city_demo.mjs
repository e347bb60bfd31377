// The city demo (`creditbank seed`): the operator's statistics show the bank's ten years (the
// yearly charts' tables, first and last year, and the accounts opened each year), and the learner with the longest record pages
// through it with the next and previous links, each page showing other credentials.
// Input: { operator, staff_password, national_id, password, lang, name, device? }.
import { journey, pageChecks, press } from "./browser.mjs";

const MAX_PAGES = 40;

const signIn = async (page, input, path, fields, button, landing) => {
  await page.goto(`${input.base_url}${path}?lang=${input.lang}`);
  for (const [selector, text] of fields) {
    await press(page, selector);
    await page.keyboard.type(text);
  }
  await Promise.all([page.waitForURL(landing), press(page, button)]);
};

const recordPage = (page) =>
  page.evaluate(() => ({
    refs: [...document.querySelectorAll("[data-credentials] tbody tr[data-credential]")].map((row) => row.dataset.credential),
    next: document.querySelector("[data-pager] [data-next]") !== null,
    previous: document.querySelector("[data-pager] [data-previous]") !== null,
  }));

journey(async ({ page, input, shot, axe, strangerPage, device }) => {
  const { violations, narrow, check } = pageChecks({ page, input, axe, shot, device });

  await signIn(page, input, "/staff/sign-in", [["#username", input.operator], ["#password", input.staff_password]],
    "form.card button[type=submit]", "**/operator/**");
  await page.goto(`${input.base_url}/operator/statistics?lang=${input.lang}`);
  await check("statistics");
  const statistics = await page.evaluate(() => {
    const chart = (id) => document.querySelector(`figure[aria-labelledby="${id}-title"]`);
    const years = (id) => [...chart(id).querySelectorAll("table tbody th[scope=row]")].map((cell) => cell.textContent.trim());
    const figures = (id) => [...chart(id).querySelectorAll("table tbody tr")].map((row) =>
      [row.querySelector("th").textContent.trim(), row.querySelector("td").textContent.trim()]);
    return {
      lang: document.documentElement.lang,
      h1: document.querySelector("h1").textContent.trim(),
      credentials: years("chart-credentials-years"),
      accounts: figures("chart-learners-years"),
      bars: chart("chart-credentials-years").querySelectorAll("svg rect.bar").length,
    };
  });

  const learner = await strangerPage();
  const learnerChecks = pageChecks({ page: learner, input, axe, shot, device });
  await signIn(learner, input, "/sign-in", [["#national_id", input.national_id], ["#password", input.password]],
    "#password ~ button[type=submit]", "**/me");
  await learnerChecks.check("record-1", learner);
  const pages = [await recordPage(learner)];
  while (pages.at(-1).next && pages.length < MAX_PAGES) {
    await Promise.all([learner.waitForEvent("load"), press(learner, "[data-pager] [data-next]")]);
    pages.push(await recordPage(learner));
  }
  await learnerChecks.check(`record-${pages.length}`, learner);
  let back = null;
  if (pages.length > 1) {
    await Promise.all([learner.waitForEvent("load"), press(learner, "[data-pager] [data-previous]")]);
    back = await recordPage(learner);
  }
  const lang = await learner.evaluate(() => document.documentElement.lang);
  return {
    statistics,
    record: { lang, pages: pages.map((seen) => seen.refs), last_has_next: pages.at(-1).next, back: back?.refs ?? null },
    violations: [...violations, ...learnerChecks.violations],
    narrow: [...narrow, ...learnerChecks.narrow],
  };
});
