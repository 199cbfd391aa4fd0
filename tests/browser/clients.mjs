// Browser clients of the hall server, driven by Playwright (playwright-core with Debian's
// /usr/bin/chromium; never a downloaded browser). The Rust e2e suite (tests/e2e/tests/hall.rs)
// starts the server and the desktop app and steers this script line by line over stdin:
//
//   kiosk <prefix>              the kiosk page takes a ticket; answers `issued <number>`
//   expect-call <number> <win>  the display shows <number> at window <win>; answers `shown`
//   expect-banner on|off        the display's connection banner is shown / gone; answers `banner`
//   shot <page> <name>          screenshot of `kiosk` or `display` to $SHOTS/<name>.png
//   quit
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
  await page.goto(`${base}${path}?device=${token}`);
  return page;
}

const kiosk = await open('/kiosk', process.env.KIOSK_TOKEN, { width: 1080, height: 1400 });
const display = await open('/display', process.env.DISPLAY_TOKEN, { width: 1600, height: 900 });
const pages = { kiosk, display };
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
    } else if (cmd === 'expect-banner') {
      const banner = display.getByTestId('connection-lost');
      await banner.waitFor({ state: args[0] === 'on' ? 'visible' : 'detached' });
      console.log('banner');
    } else if (cmd === 'shot') {
      const [which, name] = args;
      await pages[which].waitForTimeout(400);
      await pages[which].screenshot({ path: join(shots, `${name}.png`) });
      console.log('shot');
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
