// Shared by the journeys: launch Debian's Chromium with a fresh profile, read pages, take
// screenshots, run axe-core, and print the journey's findings as one JSON line.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFile(require.resolve("axe-core/axe.min.js"), "utf8");

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// The screens a journey runs on: `input.device` is "desktop" (the default) or "phone" (a phone's
// web view, as the city app opens the bank: 390×844, touch).
export const DEVICES = {
  desktop: { viewport: { width: 1280, height: 900 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 },
};

// Whether the page fits the screen's width: no horizontal scrolling of the page itself (a table
// may scroll inside its own box). Returns the widths and the widest elements that overflow.
export async function fitsWidth(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const overflowing = [...document.querySelectorAll("body *")]
      .filter((element) => element.getBoundingClientRect().right > width + 1 && !element.closest(".table-scroll"))
      .slice(0, 5)
      .map((element) => `${element.tagName.toLowerCase()}${element.className ? "." + String(element.className).split(" ")[0] : ""}`);
    return { fits: document.documentElement.scrollWidth <= width, scrollWidth: document.documentElement.scrollWidth, width, overflowing };
  });
}

// The first QR code on the page: whether it is shown, and its width on the screen in CSS pixels.
export async function qrCode(page) {
  return page.evaluate(() => {
    const code = document.querySelector(".qr-figure svg");
    if (code === null) return { visible: false, width: 0 };
    const box = code.getBoundingClientRect();
    const style = getComputedStyle(code);
    return { visible: box.width > 0 && style.visibility !== "hidden" && style.display !== "none", width: Math.round(box.width) };
  });
}

// What every page of a journey is held to: axe finds nothing (`violations`) and, on a phone, the
// page fits the screen's width (`narrow`); `check(name, target, { fit })` also saves a screenshot.
export function pageChecks({ page, input, axe, shot, device }) {
  const violations = [];
  const narrow = [];
  const fits = async (name, target = page) => {
    if (device !== "phone") return;
    const seen = await fitsWidth(target);
    if (!seen.fits) narrow.push(`${name}: ${seen.scrollWidth}px > ${seen.width}px (${seen.overflowing.join(", ")})`);
  };
  const check = async (name, target = page, { fit = true } = {}) => {
    violations.push(...(await axe(target)).map((violation) => `${name}: ${violation}`));
    if (fit) await fits(name, target);
    await shot(`${input.name}-${name}`, target);
  };
  return { violations, narrow, fits, check };
}

// Tap on a phone, click on a desktop.
export async function press(page, selector) {
  const device = page.context()._creditbankDevice ?? "desktop";
  return device === "phone" ? page.tap(selector) : page.click(selector);
}

// Run `steps({ page, input, shot, axe, newPage, strangerPage, device })` in a fresh browser and
// print its result as JSON; `strangerPage()` opens a page in a second browser with no cookies (an
// employer).
export async function journey(steps) {
  const input = JSON.parse(process.argv[2]);
  const device = input.device ?? "desktop";
  if (!(device in DEVICES)) throw new Error(`unknown device ${device}`);
  const profile = await mkdtemp(join(tmpdir(), "creditbank-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: input.chromium,
    headless: true,
    args: CHROMIUM_ARGS,
    locale: input.locale ?? "en-US",
    ...DEVICES[device],
  });
  context._creditbankDevice = device;
  const problems = [];
  const watch = (page) => {
    // Script errors, console errors and failed assets; an error page itself (a 4xx document, as
    // the journeys sometimes provoke) is what the journey checks, not a problem.
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
        problems.push(message.text());
      }
    });
    page.on("pageerror", (error) => problems.push(String(error)));
    page.on("response", (response) => {
      if (response.status() >= 400 && response.request().resourceType() !== "document") {
        problems.push(`${response.status()} ${response.url()}`);
      }
    });
    return page;
  };
  const newPage = async () => watch(await context.newPage());
  const strangers = [];
  const strangerPage = async () => {
    const browser = await chromium.launch({ executablePath: input.chromium, headless: true, args: CHROMIUM_ARGS });
    strangers.push(browser);
    const stranger = await browser.newContext({ locale: input.locale ?? "en-US", ...DEVICES[device] });
    stranger._creditbankDevice = device;
    return watch(await stranger.newPage());
  };
  const page = context.pages().length > 0 ? watch(context.pages()[0]) : await newPage();
  const screenshots = [];
  const shot = async (name, target = page) => {
    const path = join(input.screenshots, `${name}.png`);
    await target.screenshot({ path, fullPage: true });
    screenshots.push(path);
  };
  const axe = async (target = page) => {
    await target.evaluate(await AXE_SOURCE);
    const results = await target.evaluate(() =>
      window.axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] }),
    );
    return results.violations.map((violation) => `${violation.id}: ${violation.help}`);
  };
  try {
    const result = await steps({ page, input, shot, axe, newPage, strangerPage, device });
    console.log(JSON.stringify({ ...result, problems, screenshots }));
  } finally {
    await Promise.all(strangers.map((browser) => browser.close()));
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}

// What a result page shows: verdict, each check, failed checks, issuer, block and headings.
export async function readResult(page) {
  return page.evaluate(() => {
    const text = (selector) => document.querySelector(selector)?.textContent.trim() ?? null;
    return {
      path: location.pathname,
      lang: document.documentElement.lang,
      title: text("h1"),
      verdict: document.querySelector("[data-verdict]")?.dataset.verdict ?? null,
      checks: [...document.querySelectorAll("[data-check]")].map((item) => [
        item.dataset.check,
        item.dataset.status,
      ]),
      failed: [...document.querySelectorAll("[data-failed] strong")].map((item) => item.textContent.trim()),
      issuer: text("[data-issuer-name]"),
      block: text("[data-block]"),
      link: document.querySelector("#result-link, #share-link")?.value ?? null,
      qr: document.querySelector(".qr-figure svg path") !== null,
    };
  });
}
