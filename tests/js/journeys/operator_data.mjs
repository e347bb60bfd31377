// The operator reads the data catalogue on a phone, in English then in Chinese: the class cards
// and the table of tables, whose rows become cards labelled by class, with no sideways scrolling.
// Input: { operator, password, name, device? }.
import { journey, pageChecks, press } from "./browser.mjs";

journey(async ({ page, input, shot, axe, device }) => {
  const { violations, narrow, check } = pageChecks({ page, input, axe, shot, device });
  await page.goto(`${input.base_url}/staff/sign-in?lang=en`);
  await press(page, "#username");
  await page.keyboard.type(input.operator);
  await press(page, "#password");
  await page.keyboard.type(input.password);
  await Promise.all([page.waitForURL("**/operator/**"), press(page, "form.card button[type=submit]")]);
  const seen = { violations, narrow };
  for (const language of ["en", "zh"]) {
    await page.goto(`${input.base_url}/operator/data?lang=${language}`);
    await check(`data-${language}`);
    seen[language] = await page.evaluate(() => {
      const row = document.querySelector("tr#table-bank_learners");
      const cell = row.querySelector("td[data-class=sensitive]");
      return {
        h1: document.querySelector("h1").textContent.trim(),
        cards: [...document.querySelectorAll(".cards > section h3")].map((h) => h.textContent.trim()),
        rows: document.querySelectorAll("table.records tbody tr").length,
        row_display: getComputedStyle(row).display,
        label: getComputedStyle(cell, "::before").content,
        sensitive: cell.textContent.replace(/\s+/g, " ").trim(),
      };
    });
  }
  return seen;
});
