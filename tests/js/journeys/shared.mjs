// Employer journey: a learner's share link opens the credential, verified, with a QR code; the
// same link typed in the verify page's share-link field, or read from a photo of its QR code,
// leads to the same page. On a phone, the shared page must fit the screen's width and show its QR
// code at a size another phone can read (`narrow`, `code`).
// Input: { share_link, qr_image, name, device? }.
import { fitsWidth, journey, press, qrCode, readResult } from "./browser.mjs";

journey(async ({ page, input, shot, axe, device }) => {
  await page.goto(input.share_link);
  const direct = await readResult(page);
  const code = await qrCode(page);
  const width = await fitsWidth(page);
  const narrow = device === "phone" && !width.fits ? [`${width.scrollWidth}px > ${width.width}px (${width.overflowing.join(", ")})`] : [];
  const violations = await axe();
  await shot(`${input.name}-page`);

  await page.goto(`${input.base_url}/verify`);
  await page.fill("#url", input.share_link);
  await Promise.all([page.waitForURL("**/s/*"), press(page, "[data-qr-form] button[type=submit]")]);
  const typed = await readResult(page);

  await page.goto(`${input.base_url}/verify`);
  await page.setInputFiles("#qr-image", input.qr_image);
  await page.waitForURL("**/s/*");
  const scanned = await readResult(page);

  await page.goto(`${input.base_url}/verify?url=${encodeURIComponent("http://example.com/s/abc")}`);
  const foreign = await page.evaluate(() => document.querySelector("#url-error")?.textContent.trim() ?? null);
  await shot(`${input.name}-foreign-link`);
  return { direct, typed, scanned, foreign, violations, code, narrow };
});
