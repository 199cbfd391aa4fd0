// Browser clients of the hall server, driven by Playwright (playwright-core with Debian's
// /usr/bin/chromium; never a downloaded browser). The Rust e2e suite (tests/e2e/tests/hall.rs)
// starts the server and the desktop app and steers this script line by line over stdin:
//
//   kiosk <prefix>              the kiosk page takes a ticket; answers `issued <number>`
//   expect-call <number> <win>  the display shows <number> at window <win>; answers `shown`
//   expect-banner on|off        the display's connection banner is shown / gone; answers `banner`
//   shot <page> <name>          screenshot of `kiosk` or `display` to $SHOTS/<name>.png
//   done                        the kiosk's 完成 after a ticket: back to the categories
//   kiosk-id <id> <prefix>      an ID card on the kiosk's reader, a ticket with it, the card again
//                               answers `issued <number>[ green][ held]`
//   kiosk-keypad <id>           the ID typed on the kiosk's keypad (`keyed`); kiosk-keypad-ok confirms
//   reload <page>               reload `kiosk` or `display` (a fresh read of everything)
//   expect-day-off              the kiosk says the hall is closed today and every button is off
//   resize <page> <w> <h>       the page's viewport becomes a <w>×<h> screen; answers `resized`
//   measure <page>              answers `measure {json}`: viewport, overflow, the smallest
//                               visible text's font size and the newest call's (display)
//   unpaired <name>             a display opened without its device token says so; screenshot
//                               to $SHOTS/<name>.png; answers `unpaired`
//   arm                         start watching the display: its board reads (requests for
//                               queue.board), the calls its events carry, when its newest
//                               number changes; answers `armed`
//   expect-call-timed <n> <win> like expect-call, then 300 ms more; answers
//                               `shown <ms> <reads>`: from the call's event time (the server's
//                               clock: when the operation ran) to the number on screen, and the
//                               board reads since `arm`
//   wait <page> <css>           the page shows an element matching <css> (Playwright's css,
//                               `:has-text(…)` included); answers `seen`
//   click <page> <css>          clicks it; answers `clicked`
//   board <name> <text>         a supervisor signs in on /admin, opens the bad-rating board,
//                               finds the row with <text>, screenshot to $SHOTS/<name>.png with
//                               it in view; answers `board <that row's text>`
//   pair-rater <name>           the admin registers window 1's rater on /admin (设备 tab),
//                               screenshot of the pairing code and QR to $SHOTS/<name>.png;
//                               a new browser opens the pairing page with that code and lands
//                               on /rater, which becomes the `rater` page; answers `paired`
//   quit
//
// RATER_TOKEN and WINDOW_TOKEN (optional) open the rater (`rater`, a 1280×800 tablet) and the
// window screen (`window`, 1366×768) of the window they were registered for.
//
// Every step fails (prints `error …` and exits 1) after 20 s.
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', '..', 'ui', 'package.json'));
const { chromium } = require('playwright-core');

const base = process.env.HALL_URL;
const shots = process.env.SHOTS ?? join(here, '..', '..', 'target', 'e2e-shots');
mkdirSync(shots, { recursive: true });
const TIMEOUT = 20_000;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run',
  ],
});

// Playwright gives each context a fresh profile. Two separate browsers in effect: each page
// has its own context (storage, device token).
async function open(path, token, viewport) {
  const ctx = await browser.newContext({ viewport, locale: 'zh-CN' });
  const page = await ctx.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('console', (m) => { if (m.type() === 'error') console.error(`[${path}] ${m.text()}`); });
  // What `arm` watches: board reads, and the time of each call the events carry.
  page.on('request', (r) => { if (armed && r.url().includes('/api/op/queue.board')) armed.reads++; });
  page.on('websocket', (ws) => ws.on('framereceived', (f) => {
    if (!armed) return;
    try {
      const m = JSON.parse(String(f.payload));
      const call = m?.event?.paint?.call;
      if (call) armed.calls[call.number] = Date.parse(m.event.at);
    } catch { /* not ours */ }
  }));
  await page.goto(`${base}${path}?device=${token}`);
  return page;
}
let armed = null;

const kiosk = await open('/kiosk', process.env.KIOSK_TOKEN, { width: 1080, height: 1400 });
const display = await open('/display', process.env.DISPLAY_TOKEN, { width: 1600, height: 900 });
const pages = { kiosk, display };
if (process.env.RATER_TOKEN) pages.rater = await open('/rater', process.env.RATER_TOKEN, { width: 1280, height: 800 });
if (process.env.WINDOW_TOKEN) pages.window = await open('/window', process.env.WINDOW_TOKEN, { width: 1366, height: 768 });
await display.getByTestId('display-hall-name').filter({ hasText: '政务服务中心' }).waitFor();
console.log('ready');

const commands = createInterface({ input: process.stdin });
for await (const line of commands) {
  const [cmd, ...args] = line.trim().split(/\s+/);
  try {
    if (cmd === 'kiosk') {
      const [prefix] = args;
      await kiosk.getByTestId(`kiosk-take-${prefix}`).click();
      const number = (await kiosk.getByTestId('kiosk-ticket-number').filter({ hasText: prefix }).innerText()).trim();
      console.log(`issued ${number}`);
    } else if (cmd === 'expect-call') {
      const [number, win] = args;
      await display.getByTestId('display-newest-number').filter({ hasText: number }).waitFor();
      await display.getByTestId('display-newest').filter({ hasText: `${win}` }).waitFor();
      console.log('shown');
    } else if (cmd === 'arm') {
      armed = { reads: 0, calls: {} };
      await display.evaluate(() => {
        window.__shown = {};
        const observe = () => {
          const n = document.querySelector('[data-testid=display-newest-number]');
          if (n) window.__shown[n.textContent.trim()] ??= Date.now();
        };
        new MutationObserver(observe).observe(document.body, { subtree: true, childList: true, characterData: true });
      });
      console.log('armed');
    } else if (cmd === 'expect-call-timed') {
      const [number, win] = args;
      await display.getByTestId('display-newest-number').filter({ hasText: number }).waitFor();
      await display.getByTestId('display-newest').filter({ hasText: `${win}` }).waitFor();
      // Long enough for a read the event would have caused (at once, or 200 ms after the
      // previous one); short against the display's minute timer.
      await display.waitForTimeout(300);
      const shown = await display.evaluate((n) => window.__shown[n], number);
      const at = armed.calls[number];
      if (!shown || !at) throw new Error(`no timing for ${number}: shown ${shown}, event ${at}`);
      console.log(`shown ${shown - at} ${armed.reads}`);
      armed = null;
    } else if (cmd === 'expect-banner') {
      const banner = display.getByTestId('connection-lost');
      await banner.waitFor({ state: args[0] === 'on' ? 'visible' : 'detached' });
      console.log('banner');
    } else if (cmd === 'shot') {
      const [which, name] = args;
      await pages[which].waitForTimeout(400);
      await pages[which].screenshot({ path: join(shots, `${name}.png`) });
      console.log('shot');
    } else if (cmd === 'kiosk-id') {
      // An ID card on a keyboard-mode reader: 18 characters in a burst, then Enter.
      const [id, prefix] = args;
      // Back from the last ticket's screen to the categories, where the reader listens.
      if (await kiosk.getByTestId('kiosk-done').count()) await kiosk.getByTestId('kiosk-done').click();
      await kiosk.getByTestId(`kiosk-take-${prefix}`).waitFor();
      await kiosk.keyboard.type(id, { delay: 5 });
      await kiosk.keyboard.press('Enter');
      await kiosk.getByTestId('kiosk-person').waitFor();
      const green = (await kiosk.getByTestId('kiosk-suggest-green').count()) > 0;
      await kiosk.getByTestId(`kiosk-take-${prefix}`).click();
      const number = (await kiosk.getByTestId('kiosk-ticket-number').filter({ hasText: prefix }).innerText()).trim();
      await kiosk.getByTestId('kiosk-done').click();
      await kiosk.getByTestId(`kiosk-take-${prefix}`).waitFor();
      // The same card again: the number is held, the button is off.
      await kiosk.keyboard.type(id, { delay: 5 });
      await kiosk.keyboard.press('Enter');
      await kiosk.getByTestId('kiosk-held').filter({ hasText: number }).waitFor();
      const off = await kiosk.getByTestId(`kiosk-take-${prefix}`).isDisabled();
      console.log(`issued ${number}${green ? ' green' : ''}${off ? ' held' : ''}`);
    } else if (cmd === 'kiosk-keypad') {
      const [id] = args;
      if (await kiosk.getByTestId('kiosk-forget').count()) await kiosk.getByTestId('kiosk-forget').click();
      await kiosk.getByTestId('kiosk-id').click();
      for (const ch of id) await kiosk.getByTestId(`kiosk-key-${ch}`).click();
      await kiosk.getByTestId('kiosk-keyed').filter({ hasText: id }).waitFor();
      console.log('keyed');
    } else if (cmd === 'kiosk-keypad-ok') {
      await kiosk.getByTestId('kiosk-id-ok').click();
      await kiosk.getByTestId('kiosk-person').waitFor();
      await kiosk.getByTestId('kiosk-forget').click();
      console.log('identified');
    } else if (cmd === 'reload') {
      await pages[args[0]].reload();
      await pages[args[0]].waitForLoadState('networkidle');
      console.log('reloaded');
    } else if (cmd === 'expect-day-off') {
      await kiosk.getByTestId('kiosk-day-off').waitFor();
      const enabled = await kiosk.locator('[data-testid^=kiosk-take-]:not([disabled])').count();
      if (enabled !== 0) throw new Error(`${enabled} category buttons still take tickets on a day off`);
      console.log('closed');
    } else if (cmd === 'done') {
      await kiosk.getByTestId('kiosk-done').click();
      await kiosk.getByTestId('kiosk-take-A').waitFor();
      console.log('done');
    } else if (cmd === 'resize') {
      const [which, w, h] = args;
      await pages[which].setViewportSize({ width: Number(w), height: Number(h) });
      await pages[which].waitForTimeout(300);
      console.log('resized');
    } else if (cmd === 'measure') {
      const m = await pages[args[0]].evaluate(() => {
        const visible = (e) => {
          const r = e.getBoundingClientRect();
          const cs = getComputedStyle(e);
          return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth;
        };
        let minFont = Infinity;
        let minText = '';
        for (const e of document.querySelectorAll('body *')) {
          if (![...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
          if (!visible(e)) continue;
          const f = parseFloat(getComputedStyle(e).fontSize);
          if (f < minFont) {
            minFont = f;
            minText = e.textContent.trim().slice(0, 24);
          }
        }
        const n = document.querySelector('[data-testid=display-newest-number]');
        const d = document.documentElement;
        return {
          width: innerWidth, height: innerHeight,
          overflowX: d.scrollWidth > innerWidth + 1, overflowY: d.scrollHeight > innerHeight + 1,
          minFont, minText, numberFont: n ? parseFloat(getComputedStyle(n).fontSize) : 0,
        };
      });
      console.log(`measure ${JSON.stringify(m)}`);
    } else if (cmd === 'unpaired') {
      const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN' });
      const page = await ctx.newPage();
      page.setDefaultTimeout(TIMEOUT);
      await page.goto(`${base}/display`);
      await page.getByTestId('device-unpaired').waitFor();
      if (await page.getByTestId('connection-lost').count()) throw new Error('the reconnecting banner shows on an unpaired screen');
      await page.screenshot({ path: join(shots, `${args[0]}.png`) });
      await ctx.close();
      console.log('unpaired');
    } else if (cmd === 'wait') {
      const [which, ...css] = args;
      await pages[which].locator(css.join(' ')).first().waitFor();
      console.log('seen');
    } else if (cmd === 'click') {
      const [which, ...css] = args;
      await pages[which].locator(css.join(' ')).first().click();
      console.log('clicked');
    } else if (cmd === 'board') {
      const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN' });
      const page = await ctx.newPage();
      page.setDefaultTimeout(TIMEOUT);
      await page.goto(`${base}/admin`);
      await page.getByTestId('signin-login').fill('zhouhong');
      await page.getByTestId('signin-password').fill('demo1234');
      await page.getByTestId('signin-submit').click();
      await page.getByTestId('tab-followups').click();
      const row = page.getByTestId('followup-row').filter({ hasText: args.slice(1).join(' ') }).first();
      await row.waitFor();
      await row.scrollIntoViewIfNeeded();
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(shots, `${args[0]}.png`) });
      const text = (await row.innerText()).replace(/\s+/g, ' ').trim();
      await ctx.close();
      console.log(`board ${text}`);
    } else if (cmd === 'pair-rater') {
      const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN' });
      const admin = await ctx.newPage();
      admin.setDefaultTimeout(TIMEOUT);
      await admin.goto(`${base}/admin`);
      await admin.getByTestId('signin-login').fill('admin');
      await admin.getByTestId('signin-password').fill('demo1234');
      await admin.getByTestId('signin-submit').click();
      await admin.getByTestId('tab-devices').click();
      await admin.getByTestId('device-kind').selectOption('rater');
      await admin.getByTestId('device-window').selectOption({ index: 1 });
      await admin.getByTestId('device-name').fill('1号窗口评价器');
      await admin.getByTestId('device-register').getByRole('button').click();
      const code = (await admin.getByTestId('device-pairing-code').innerText()).replace(/\s+/g, '');
      await admin.getByTestId('device-pairing-qr').waitFor();
      await admin.waitForTimeout(300);
      await admin.screenshot({ path: join(shots, `${args[0]}.png`) });
      await ctx.close();
      const rctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
      const rater = await rctx.newPage();
      rater.setDefaultTimeout(TIMEOUT);
      rater.on('console', (m) => { if (m.type() === 'error') console.error(`[pair] ${m.text()}`); });
      await rater.goto(`${base}/pair?code=${code}`);
      await rater.waitForURL('**/rater');
      await rater.getByTestId('rater').waitFor();
      pages.rater = rater;
      console.log('paired');
    } else if (cmd === 'quit') {
      break;
    } else {
      throw new Error(`unknown command ${cmd}`);
    }
  } catch (e) {
    console.log(`error ${cmd}: ${String(e).split('\n')[0]}`);
    await browser.close();
    process.exit(1);
  }
}
await browser.close();
process.exit(0);
