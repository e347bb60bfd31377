// City single sign-on: the sign-in page's city button goes to the OpenID provider, which
// consents at once and sends the browser back signed in. Input: { name }.
import { journey } from "./browser.mjs";

journey(async ({ page, input, shot, axe }) => {
  await page.goto(`${input.base_url}/sign-in`);
  const violations = await axe();
  await Promise.all([page.waitForURL("**/me"), page.click("text=Sign in with the city account")]);
  const signedIn = await page.evaluate(() => ({
    path: location.pathname,
    h1: document.querySelector("h1").textContent.trim(),
    who: document.querySelector(".signed-in-as").textContent.trim(),
  }));
  await shot(`${input.name}-signed-in`);
  return { signedIn, violations };
});
