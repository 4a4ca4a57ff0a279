// End-to-end browser test of the /chat simulator page: the real pgibot binary on 127.0.0.1:0 and the
// system Chromium driven by playwright-core. Run: node --test tests/web/   (after npm ci in tests/web)
// Env: PGIBOT_BIN (default <repo>/build/release/bot/app/pgibot), CHROMIUM (default /usr/bin/chromium),
//      PGIBOT_CONFIG (default <repo>/config/pgibot.toml) is the config the temp one is made from,
//      PGIBOT_WEB_KEEP=1 keeps the temp folder (config, database, screenshots) for a look afterwards.
// (On Node 22+ name the file: node --test tests/web/chat.test.mjs.)
// Asserts on structure (bubbles, buttons, non-empty texts, layout), never on exact Vietnamese wording.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.resolve(repo, process.env.PGIBOT_BIN || 'build/release/bot/app/pgibot');
const configTemplate = path.resolve(repo, process.env.PGIBOT_CONFIG || 'config/pgibot.toml');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT = 15_000; // every single wait is bounded by this

// The embedded default config/pgibot.toml, with a free port, a throw-away database and key, absolute
// content folder and the simulator on. Patched key by key inside its section so it follows the real file.
function writeConfig(dir) {
  const lines = fs.readFileSync(configTemplate, 'utf8').split('\n');
  // Sets `key = value` in [section] (line-based: a table header is a line "[name]", keys start lines).
  const set = (section, key, value, optional = false) => {
    let current = '';
    for (let i = 0; i < lines.length; i++) {
      const header = /^\s*\[([^\]]+)\]\s*(#.*)?$/.exec(lines[i]);
      if (header) { current = header[1].trim(); continue; }
      if (current === section && new RegExp(`^\\s*${key}\\s*=`).test(lines[i])) {
        lines[i] = `${key} = ${value}`;
        return;
      }
    }
    assert.ok(optional, `${configTemplate} has no ${key} in [${section}]`);
  };
  const q = (s) => JSON.stringify(s); // a TOML basic string for plain paths
  set('server', 'listen', q('127.0.0.1:0'));
  set('storage.sqlite', 'path', q(path.join(dir, 'data', 'pgibot.db')));
  set('storage.sqlite', 'synchronous', q('normal'));
  set('content', 'dir', q(path.join(repo, 'messages', 'content')));
  set('chat', 'enabled', 'true');
  set('tipoffs', 'key_file', q(path.join(dir, 'data', 'pgibot.key')));
  set('tipoffs', 'create_key_file', 'true');
  set('tipoffs', 'evidence_dir', q(path.join(dir, 'data', 'evidence')), true);
  const file = path.join(dir, 'pgibot.toml');
  fs.writeFileSync(file, lines.join('\n'));
  return file;
}

// Starts `pgibot serve` and resolves with the port it prints on stdout.
function startServer(config, out) {
  const env = { ...process.env };
  delete env.PGIBOT_DATA_KEY; // the temp key file, never a key from the caller's environment
  const child = spawn(bin, ['serve', '--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s) => { out.text += s; });
  const port = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on" line within ${WAIT} ms:\n${out.text}`)), WAIT);
    child.stdout.on('data', (s) => {
      out.text += s;
      const m = /listening on https?:\/\/[^\s:]+:(\d+)/.exec(out.text);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`pgibot exited (${code ?? sig}) before listening:\n${out.text}`));
    });
  });
  return { child, port };
}

async function stopServer(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// Opens /chat in a fresh browser context; collects the page's JavaScript and console errors.
async function openChat(browser, base, contextOptions, errors) {
  const context = await browser.newContext({ locale: 'vi-VN', ...contextOptions });
  context.setDefaultTimeout(WAIT);
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(`pageerror: ${e}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()} ${JSON.stringify(m.location())}`); });
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
  const response = await page.goto(`${base}/chat`, { timeout: WAIT });
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-type'] ?? '', /text\/html;\s*charset=utf-8/i);
  assert.match(await page.title(), /trò chuyện/, 'the page title is not decoded as UTF-8');
  return { context, page };
}

const botCount = (page) => page.locator('.bubble.bot').count();
const meCount = (page) => page.locator('.bubble.me').count();

// Waits until there are more than `before` bot bubbles and none arrives for a while (the bot may answer
// with several messages), then returns the new bubbles' texts.
async function waitForAnswer(page, before) {
  await page.waitForFunction((n) => document.querySelectorAll('.bubble.bot').length > n, before, { timeout: WAIT });
  let count = await botCount(page);
  for (let quiet = 0; quiet < 3; ) { // three quiet polls (the page polls every 500 ms)
    await page.waitForTimeout(400);
    const now = await botCount(page);
    quiet = now === count ? quiet + 1 : 0;
    count = now;
  }
  return (await page.locator('.bubble.bot').allTextContents()).slice(before);
}

async function waitForMine(page, before) {
  await page.waitForFunction((n) => document.querySelectorAll('.bubble.me').length > n, before, { timeout: WAIT });
  return (await page.locator('.bubble.me').last().textContent()).trim();
}

function assertTexts(texts, what) {
  assert.ok(texts.length > 0, `${what}: no bot bubble`);
  for (const s of texts) {
    assert.ok(s.trim().length > 0, `${what}: an empty bot bubble`);
    assert.doesNotMatch(s, /\uFFFD|Ã[\u0080-\u00BF]|Ä[\u0080-\u00BF]|Æ[\u0080-\u00BF]/, `${what}: mojibake in "${s}"`);
  }
}

// The newest quick-reply row: every button has a title and a payload.
async function assertQuickRow(page, what) {
  const buttons = page.locator('.quick').last().locator('button');
  await buttons.first().waitFor({ state: 'visible' });
  const n = await buttons.count();
  assert.ok(n >= 1, `${what}: no quick replies`);
  for (const b of await buttons.all()) {
    assert.ok((await b.textContent()).trim().length > 0, `${what}: a quick reply without a title`);
    assert.ok(((await b.getAttribute('data-payload')) ?? '').length > 0, `${what}: a quick reply without a payload`);
  }
  return n;
}

async function typeAndSend(page, text) {
  const input = page.locator('#text');
  await input.fill(text);
  await input.press('Enter');
  assert.equal(await input.inputValue(), '', 'the input is cleared after sending');
}

async function screenshot(page, file) {
  await page.screenshot({ path: file, timeout: WAIT });
  const png = fs.readFileSync(file);
  assert.ok(png.length > 1000, `the screenshot ${file} is empty`);
  assert.ok(png.subarray(0, 8).equals(PNG_MAGIC), `${file} is not a PNG`);
}

// Nothing wider than the viewport, no sideways scrolling, the newest message above the input bar and the
// send button on screen.
async function assertLayout(page, what) {
  const layout = await page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const log = document.getElementById('log');
    const wide = [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > vw + 1)
      .map((e) => `${e.tagName.toLowerCase()}.${e.className}`);
    const newest = log.lastElementChild?.getBoundingClientRect();
    const form = document.getElementById('form').getBoundingClientRect();
    const send = document.getElementById('send').getBoundingClientRect();
    return {
      vw,
      vh: window.innerHeight,
      scrollWidth: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
      logScrollWidth: log.scrollWidth,
      logClientWidth: log.clientWidth,
      wide,
      newestBottom: newest ? newest.bottom : 0,
      formTop: form.top,
      send: { right: send.right, bottom: send.bottom, width: send.width },
    };
  });
  const info = JSON.stringify(layout);
  assert.ok(layout.scrollWidth <= layout.vw, `${what}: the page scrolls sideways: ${info}`);
  assert.ok(layout.logScrollWidth <= layout.logClientWidth, `${what}: the message log scrolls sideways: ${info}`);
  assert.deepEqual(layout.wide, [], `${what}: elements wider than the screen: ${info}`);
  assert.ok(layout.newestBottom <= layout.formTop + 1, `${what}: the newest message is behind the input bar: ${info}`);
  assert.ok(layout.send.width > 0 && layout.send.right <= layout.vw && layout.send.bottom <= layout.vh,
    `${what}: the send button is off screen: ${info}`);
}

test('/chat: greeting, menu, topic, free-text question; desktop and phone layout', { timeout: 240_000 }, async (t) => {
  assert.ok(fs.existsSync(bin), `pgibot binary not found at ${bin} (set PGIBOT_BIN)`);
  assert.ok(fs.existsSync(chromiumPath), `Chromium not found at ${chromiumPath} (apt-get install chromium)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgibot-web-'));
  const out = { text: '' };
  const errors = [];
  let server;
  let browser;
  try {
    server = startServer(writeConfig(dir), out);
    const base = `http://127.0.0.1:${await server.port}`;
    browser = await chromium.launch({
      executablePath: chromiumPath,
      timeout: WAIT,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });

    // Desktop: the page sends GET_STARTED by itself and shows the greeting with quick replies.
    {
      const { context, page } = await openChat(browser, base, { viewport: { width: 1024, height: 768 } }, errors);
      const greeting = await waitForAnswer(page, 0);
      assertTexts(greeting, 'greeting');
      assert.equal(await meCount(page), 1, 'the automatic GET_STARTED is shown once');
      await assertQuickRow(page, 'greeting');

      // A menu category: the clicked title is echoed, the category's topics come back as buttons.
      const menu = page.locator('.quick button[data-payload^="MENU:"]').first();
      await menu.waitFor({ state: 'visible' });
      const menuTitle = (await menu.textContent()).trim();
      let before = await botCount(page);
      let mine = await meCount(page);
      await menu.click();
      assert.equal(await waitForMine(page, mine), menuTitle, 'the clicked button title is echoed');
      assertTexts(await waitForAnswer(page, before), 'menu category');
      await assertQuickRow(page, 'menu category');
      const topic = page.locator('.quick').last().locator('button[data-payload^="TOPIC:"]').first();
      await topic.waitFor({ state: 'visible' });

      // A topic: its answer; the clicked quick-reply row goes away.
      before = await botCount(page);
      mine = await meCount(page);
      const row = await page.locator('.quick').last().elementHandle();
      await topic.click();
      assert.equal(await row.evaluate((e) => e.isConnected), false, 'the clicked quick-reply row is removed');
      await waitForMine(page, mine);
      const answer = await waitForAnswer(page, before);
      assertTexts(answer, 'topic answer');
      assert.ok(answer.join('').trim().length >= 20, 'the topic answer is suspiciously short');

      // A typed question without diacritics, sent with Enter.
      before = await botCount(page);
      mine = await meCount(page);
      await typeAndSend(page, 'phan loai rac nhu the nao');
      assert.equal(await waitForMine(page, mine), 'phan loai rac nhu the nao');
      assertTexts(await waitForAnswer(page, before), 'free-text answer');

      await assertLayout(page, 'desktop 1024x768');
      const shot = path.join(dir, 'chat-desktop.png');
      await screenshot(page, shot);
      t.diagnostic(`desktop screenshot: ${shot}`);
      await context.close();
    }

    // Phone (390x844, touch): greeting, a tapped menu button, a typed question with a long unbroken word
    // (a pasted link); nothing may be wider than the screen.
    {
      const { context, page } = await openChat(browser, base, {
        viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true,
      }, errors);
      assertTexts(await waitForAnswer(page, 0), 'phone greeting');
      await assertQuickRow(page, 'phone greeting');
      let before = await botCount(page);
      await page.locator('.quick button[data-payload^="MENU:"]').first().tap();
      assertTexts(await waitForAnswer(page, before), 'phone menu category');
      await assertQuickRow(page, 'phone menu category');
      before = await botCount(page);
      const mine = await meCount(page);
      const long = 'phan loai rac nhu the nao https://example.org/' + 'rac_thai_sinh_hoat'.repeat(6);
      await typeAndSend(page, long);
      assert.equal(await waitForMine(page, mine), long);
      assertTexts(await waitForAnswer(page, before), 'phone free-text answer');
      await assertLayout(page, 'phone 390x844');
      const shot = path.join(dir, 'chat-phone.png');
      await screenshot(page, shot);
      t.diagnostic(`phone screenshot: ${shot}`);
      await context.close();
    }

    assert.deepEqual(errors, [], 'errors in the page');
  } catch (e) {
    if (out.text) console.error(`---- pgibot output (last 4000 characters) ----\n${out.text.slice(-4000)}`);
    console.error(`---- temp folder: ${dir}${process.env.PGIBOT_WEB_KEEP ? '' : ' (removed; PGIBOT_WEB_KEEP=1 keeps it)'}`);
    throw e;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await stopServer(server?.child);
    if (!process.env.PGIBOT_WEB_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  }
});
