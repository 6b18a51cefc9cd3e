// The browser test: a headless Chromium against `taalbudget serve --demo`, signed in as every demo role.
//
// For each role it walks every page reachable from the menu (following links, at most PER_PATTERN addresses per
// URL pattern and PER_PATH per path, numbers collapsed) and checks on each page: the status is 200, axe-core finds no WCAG 2.0/2.1/2.2
// A/AA violation, the page does not scroll sideways at 1280 px and reflows at 320 px (scroll containers inside
// the page are allowed), and the console shows no error. As finance it walks the import flow through the real
// form (upload, preview, confirm, undo). It writes screenshots to docs/screens/ and the measured page widths to
// target/browser/widths.json, and ends with the line 'N passed, M failed'.
//
// Environment: TAALBUDGET_BIN (default target/debug/taalbudget), CHROMIUM (default /usr/bin/chromium),
// SCREENS_DIR (default docs/screens; empty: no screenshots); for working on a few pages: BROWSER_CRAWL=0 (visit
// only the start pages: BROWSER_START, comma-separated paths, default /; follow no links) and BROWSER_ROLES
// (comma-separated usernames).

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import axe from 'axe-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = process.env.TAALBUDGET_BIN || path.join(ROOT, 'target', 'debug', 'taalbudget');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENS = process.env.SCREENS_DIR ?? path.join(ROOT, 'docs', 'screens');
const OUT = path.join(ROOT, 'target', 'browser');
const CRAWL = process.env.BROWSER_CRAWL !== '0';
const START = (process.env.BROWSER_START || '/').split(',');
const PER_PATTERN = 2;
// Filters make many patterns of one page (the overview's van/tot/bron/scenario/weergave); four addresses a path.
const PER_PATH = 4;
const MAX_PAGES_PER_ROLE = 150;
const WIDE = 1280;
const NARROW = 320;
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];
// The whole run may not hang CI: everything is killed after this long.
const DEADLINE_MS = 8 * 60 * 1000;

const ROLES = [
  { user: 'beheerder', password: 'demo-beheerder-2026' },
  { user: 'contractmanager', password: 'demo-contract-2026' },
  { user: 'financien', password: 'demo-financien-2026' },
  { user: 'beleid', password: 'demo-beleid-2026' },
];

const failures = [];
const widths = [];
let checks = 0;
let checksFailed = 0;
let server;
let browser;
const scratch = mkdtempSync(path.join(tmpdir(), 'taalbudget-browser-'));

function fail(where, what) {
  failures.push(`${where}: ${what}`);
  console.log(`FAIL ${where}: ${what}`);
}

function check(ok, where, what) {
  checks += 1;
  if (!ok) {
    checksFailed += 1;
    fail(where, what);
  }
  return ok;
}

async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  if (server && server.exitCode === null) server.kill('SIGTERM');
  rmSync(scratch, { recursive: true, force: true });
}

const deadline = setTimeout(async () => {
  console.log(`FAIL: the browser test did not finish within ${DEADLINE_MS / 1000} s`);
  await cleanup();
  process.exit(1);
}, DEADLINE_MS);

/** Starts the demo server on a free port and resolves with its base URL. */
function startServer() {
  return new Promise((resolve, reject) => {
    server = spawn(BIN, ['serve', '--demo', '--listen', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TAALBUDGET_LOG: 'warn' },
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start within 120 s:\n${out}`)), 120_000);
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/taalbudget draait op (http:\/\/[^\s]+?)\/?\s/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.stderr.on('data', (chunk) => process.stderr.write(chunk));
    server.on('exit', (code) => reject(new Error(`server exited with ${code} before it listened:\n${out}`)));
  });
}

/** The patterns an address belongs to: its path with numbers and ids collapsed, and that with its query keys. */
function patternsOf(url) {
  const u = new URL(url);
  const p = u.pathname.replace(/\/[0-9a-f-]*\d[0-9a-f-]*(?=\/|$)/gi, '/{id}');
  const keys = [...new Set(u.searchParams.keys())].sort().join('&');
  return [p, `${p}?${keys}`];
}

function shouldFollow(url, base) {
  const u = new URL(url);
  if (u.origin !== new URL(base).origin) return false;
  // Files (exports, downloads) are not pages; the print view is checked as a page all the same.
  if (/\.(xlsx|csv|json|pdf|docx|zip|svg|css|ico)$/i.test(u.pathname)) return false;
  if (/\/(download|bestand)$/.test(u.pathname)) return false;
  if (u.pathname === '/logout' || u.pathname === '/login') return false;
  return true;
}

async function pageWidth(page) {
  return page.evaluate(() => {
    const client = document.documentElement.clientWidth;
    const scroll = document.documentElement.scrollWidth;
    // What sticks out: the innermost elements past the right edge that no scroll container holds.
    const culprits = [];
    if (scroll > client) {
      const scrolls = (el) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
      // An element sticks out with its box or with text that overflows it (a long word in a heading).
      const sticksOut = (el) =>
        el.getBoundingClientRect().right + Math.max(0, el.scrollWidth - el.clientWidth) > client + 0.5;
      for (const el of document.body.querySelectorAll('*')) {
        if (!sticksOut(el)) continue;
        let held = false;
        for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) if (scrolls(a)) held = true;
        const child = [...el.children].some(sticksOut);
        if (!held && !child) {
          const name = el.tagName.toLowerCase() + (el.className ? `.${String(el.className).split(' ').join('.')}` : '');
          culprits.push(`${name} "${el.textContent.trim().slice(0, 40)}"`);
        }
        if (culprits.length >= 3) break;
      }
    }
    return { scroll, client, culprits };
  });
}

async function runAxe(page) {
  await page.addScriptTag({ content: axe.source });
  return page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
      count: v.nodes.length,
    }));
  }, AXE_TAGS);
}

/** Every check for the page that is open now: axe, widths at 1280 and 320, console errors so far. */
async function checkPage(page, role, label, consoleErrors) {
  const where = `${role} ${label}`;
  const t0 = Date.now();
  const violations = await runAxe(page);
  const axeMs = Date.now() - t0;
  check(
    violations.length === 0,
    where,
    `axe: ${violations.map((v) => `${v.id} (${v.count}x: ${v.help}; ${v.nodes.join(' | ')})`).join('; ')}`,
  );
  const wide = await pageWidth(page);
  const tall = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: NARROW, height: 800 });
  const narrow = await pageWidth(page);
  await page.setViewportSize({ width: WIDE, height: 900 });
  widths.push({ role, page: label, wide: wide.scroll, narrow: narrow.scroll, tall, axeMs });
  check(wide.scroll <= wide.client, where, `scrolls sideways at ${WIDE} px: ${wide.scroll} px wide (${wide.culprits.join(', ')})`);
  check(narrow.scroll <= narrow.client, where, `does not reflow at ${NARROW} px: ${narrow.scroll} px wide (${narrow.culprits.join(', ')})`);
  check(consoleErrors.length === 0, where, `console: ${consoleErrors.join(' | ')}`);
  consoleErrors.length = 0;
}

async function screenshot(page, name) {
  if (!SCREENS) return;
  mkdirSync(SCREENS, { recursive: true });
  for (const [suffix, width, height] of [['1280', 1280, 900], ['375', 375, 812]]) {
    await page.setViewportSize({ width, height });
    const full = await page.evaluate(() => document.documentElement.scrollHeight);
    // Long pages are cut at 2,400 px: the screenshots show the top of each screen, and stay small in git.
    await page.screenshot({
      path: path.join(SCREENS, `${name}-${suffix}.png`),
      fullPage: true,
      clip: { x: 0, y: 0, width, height: Math.min(full, 2400) },
    });
  }
  await page.setViewportSize({ width: WIDE, height: 900 });
}

async function login(page, base, role) {
  await page.goto(`${base}/login`);
  await page.fill('#username', role.user);
  await page.fill('#password', role.password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button[type=submit]')]);
}

/** Visits every page reachable from the menu, bounded per URL pattern. */
async function crawl(page, base, role, consoleErrors) {
  const seen = new Set();
  const perPattern = new Map();
  const queue = START.map((p) => `${base}${p}`);
  let visited = 0;
  const enqueue = (url) => {
    const clean = url.split('#')[0];
    if (seen.has(clean) || !shouldFollow(clean, base)) return;
    seen.add(clean);
    const [path, pattern] = patternsOf(clean);
    const n = perPattern.get(pattern) || 0;
    const m = perPattern.get(path) || 0;
    if (n >= PER_PATTERN || m >= PER_PATH) return;
    perPattern.set(pattern, n + 1);
    perPattern.set(path, m + 1);
    queue.push(clean);
  };
  queue.forEach((u) => seen.add(u));
  while (queue.length > 0 && visited < MAX_PAGES_PER_ROLE) {
    const url = queue.shift();
    const label = url.slice(base.length) || '/';
    let response;
    try {
      response = await page.goto(url, { waitUntil: 'load' });
    } catch (e) {
      // A link that starts a download is no page.
      if (/Download is starting/.test(e.message)) continue;
      fail(`${role.user} ${label}`, `could not load: ${e.message}`);
      continue;
    }
    const type = response?.headers()['content-type'] || '';
    if (!type.startsWith('text/html')) continue;
    visited += 1;
    check(response.status() === 200, `${role.user} ${label}`, `status ${response.status()}`);
    await checkPage(page, role.user, label, consoleErrors);
    const links = await page.$$eval('a[href]', (as) => as.map((a) => a.href));
    if (CRAWL) links.forEach(enqueue);
  }
  if (CRAWL) check(queue.length === 0, role.user, `more than ${MAX_PAGES_PER_ROLE} pages; ${queue.length} left unvisited`);
  return visited;
}

/**
 * A small ledger export in the layout of the template grootboek-csv-1252, booked this year (no year the demo
 * closes), on a creditor with a contract: three lines, € 1.500,00 + € 250,25 - € 100,00 = € 1.650,25.
 */
function writeLedgerFile() {
  const year = new Date().getFullYear();
  const lines = [
    'Datum;Jaar;Periode;Boekstuk;Grootboek;Kostenplaats;Taakveld;Crediteur nr;Crediteur naam;Factuur;Omschrijving;Bedrag;D/C',
    `15-01-${year};${year};1;BT-900001;4301;KP6100-INB;6.71;200001;Taalschool De Brug (fictief);F-BT-1;Browsertest taalonderwijs januari;1.500,00;D`,
    `16-01-${year};${year};1;BT-900002;4301;KP6100-INB;6.71;200001;Taalschool De Brug (fictief);F-BT-2;Browsertest examenkosten;250,25;D`,
    `17-01-${year};${year};1;BT-900003;4301;KP6100-INB;6.71;200001;Taalschool De Brug (fictief);F-BT-3;Browsertest creditnota;100,00;C`,
  ];
  const file = path.join(scratch, 'grootboek-browsertest.csv');
  writeFileSync(file, `${lines.join('\r\n')}\r\n`, 'latin1');
  return file;
}

/** As finance: upload a ledger file through the form, preview, confirm, undo. */
async function importFlow(page, base, ledgerFile, consoleErrors) {
  const role = 'financien';
  await page.goto(`${base}/import`);
  await page.selectOption('#sjabloon', 'grootboek-csv-1252');
  await page.setInputFiles('#bestand', ledgerFile);
  await page.click('button:has-text("Bestand controleren")');
  // The job page refreshes itself (HTTP Refresh) until the preview is ready.
  await page.waitForSelector('h1:has-text("Voorbeeld van de import")', { timeout: 60_000 });
  const confirm = page.locator('form[action$="/bevestigen"] button[type=submit]');
  const label = (await confirm.count()) === 1 ? await confirm.innerText() : '(no confirm button)';
  check(label === 'Importeren: 3 regels, € 1.650,25', role, `the preview's confirm button: ${label}`);
  await checkPage(page, role, 'import preview', consoleErrors);
  await screenshot(page, 'import-preview');
  await Promise.all([page.waitForURL(/\/import\/batches\/\d+\?melding=geimporteerd$/, { timeout: 60_000 }), confirm.click()]);
  const imported = await page.locator('tr:has(th:text-is("Geïmporteerd")) td').innerText();
  check(imported === '3', role, `the batch page shows 3 imported rows: ${imported}`);
  const success = await page.locator('.notice.success').first().innerText();
  check(success.includes('3 regels geïmporteerd'), role, `the success message: ${success}`);
  await checkPage(page, role, 'import batch', consoleErrors);
  // Undo asks first, on a page of its own that says what will go.
  await Promise.all([page.waitForURL(/\/ongedaan$/), page.click('button:has-text("Import ongedaan maken…")')]);
  await page.waitForSelector('h1:has-text("ongedaan maken?")');
  await checkPage(page, role, 'undo confirmation', consoleErrors);
  await Promise.all([page.waitForURL(/melding=ongedaan/), page.click('button:has-text("Ja, import ongedaan maken")')]);
  const notice = await page.locator('.notice').first().innerText();
  check(notice.includes('De import is ongedaan gemaakt'), role, `undo notice: ${notice}`);
  await checkPage(page, role, 'import undone', consoleErrors);
}

/** Everything for one role: its pages, its screenshots and, for finance, the import flow. */
async function checkRole(role, base, ledgerFile) {
  // The strict Content-Security-Policy would block the injected axe script; the app's own pages need no bypass.
  const context = await browser.newContext({
    bypassCSP: true,
    viewport: { width: WIDE, height: 900 },
    locale: 'nl-NL',
    timezoneId: 'Europe/Amsterdam',
  });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (msg) => msg.type() === 'error' && consoleErrors.push(msg.text()));
  page.on('pageerror', (err) => consoleErrors.push(err.message));
  await login(page, base, role);
  const t = Date.now();
  const n = await crawl(page, base, role, consoleErrors);
  console.log(`${role.user}: ${n} pages in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  await page.goto(`${base}/`);
  await screenshot(page, `start-${role.user}`);
  if (role.user === 'contractmanager') {
    await page.goto(`${base}/contracten/1`);
    await screenshot(page, 'contract');
    await page.goto(`${base}/plaatsingen`);
    await screenshot(page, 'placements');
  }
  if (role.user === 'beleid') {
    await page.goto(`${base}/meerjarenoverzicht`);
    await screenshot(page, 'overview');
    await page.goto(`${base}/indicatoren?jaar=2024`);
    await screenshot(page, 'indicators');
  }
  if (role.user === 'financien') await importFlow(page, base, ledgerFile, consoleErrors);
  await context.close();
}

async function main() {
  const started = Date.now();
  const base = await startServer();
  console.log(`server at ${base}`);
  const ledgerFile = writeLedgerFile();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  const only = process.env.BROWSER_ROLES?.split(',');
  const todo = ROLES.filter((r) => !only || only.includes(r.user));
  // Two roles at a time: while the server renders a page for one, Chromium checks the other's.
  const worker = async () => {
    for (let role = todo.shift(); role; role = todo.shift()) {
      try {
        await checkRole(role, base, ledgerFile);
      } catch (e) {
        fail(role.user, e.stack || String(e));
      }
    }
  };
  await Promise.all([worker(), worker()]);
  mkdirSync(OUT, { recursive: true });
  writeFileSync(path.join(OUT, 'widths.json'), JSON.stringify(widths, null, 1));
  const widest = [...widths].sort((a, b) => b.wide - a.wide || b.narrow - a.narrow).slice(0, 5);
  console.log(`widest pages (scrollWidth at ${WIDE} px and at ${NARROW} px):`);
  for (const w of widest) console.log(`  ${String(w.wide).padStart(5)} ${String(w.narrow).padStart(5)}  ${w.role} ${w.page}`);
  const tallest = [...widths].sort((a, b) => b.tall - a.tall).slice(0, 5);
  console.log(`tallest pages (scrollHeight at ${WIDE} px):`);
  for (const w of tallest) console.log(`  ${String(w.tall).padStart(6)}  ${w.role} ${w.page}`);
  const over = (k, limit) => widths.filter((w) => w[k] > limit).length;
  console.log(
    `${widths.length} pages checked; wider than the window: ${over('wide', WIDE)} at ${WIDE} px, ` +
      `${over('narrow', NARROW)} at ${NARROW} px; every width in ${path.relative(ROOT, OUT)}/widths.json`,
  );
  console.log(`browser test took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

let code = 0;
try {
  await main();
} catch (e) {
  fail('browser test', e.stack || String(e));
}
clearTimeout(deadline);
await cleanup();
const failed = failures.length;
console.log(`${checks - checksFailed} passed, ${failed} failed`);
if (failed > 0) code = 1;
process.exit(code);
