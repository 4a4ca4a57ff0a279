// End-to-end browser test of the /chat simulator page: the real pgibot binary on 127.0.0.1:0 and the
// system Chromium driven by playwright-core. Run: node --test tests/web/   (after npm ci in tests/web)
// Env: PGIBOT_BIN (default <repo>/build/release/bot/app/pgibot), CHROMIUM (default /usr/bin/chromium),
//      PGIBOT_WEB_KEEP=1 keeps the temp folder (config, database, screenshots) for a look afterwards.
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
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT = 15_000; // every single wait is bounded by this

// The embedded default config/pgibot.toml, with a free port, a throw-away database and key, absolute
// content folder and the simulator on. Patched key by key inside its section so it follows the real file.
function writeConfig(dir) {
  let text = fs.readFileSync(path.join(repo, 'config', 'pgibot.toml'), 'utf8');
  const set = (section, key, value) => {
    const re = new RegExp(`(^\\[${section.replace(/\./g, '\\.')}\\][^\\[]*?^${key}\\s*=)[^\\n]*`, 'm');
    assert.match(text, re, `config/pgibot.toml has no ${key} in [${section}]`);
    text = text.replace(re, `$1 ${value}`);
  };
  const q = (s) => JSON.stringify(s); // a TOML basic string for plain paths
  set('server', 'listen', q('127.0.0.1:0'));
  set('storage.sqlite', 'path', q(path.join(dir, 'data', 'pgibot.db')));
  set('storage.sqlite', 'synchronous', q('normal'));
  set('content', 'dir', q(path.join(repo, 'messages', 'content')));
  set('chat', 'enabled', 'true');
  set('tipoffs', 'key_file', q(path.join(dir, 'data', 'pgibot.key')));
  set('tipoffs', 'create_key_file', 'true');
  const file = path.join(dir, 'pgibot.toml');
  fs.writeFileSync(file, text);
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

test('/chat: greeting, menu, topic, free-text question, phone layout', { timeout: 180_000 }, async (t) => {
  assert.ok(fs.existsSync(bin), `pgibot binary not found at ${bin} (set PGIBOT_BIN)`);
  assert.ok(fs.existsSync(chromiumPath), `Chromium not found at ${chromiumPath} (apt-get install chromium)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgibot-web-'));
  const out = { text: '' };
  let server;
  let browser;
  const pageErrors = [];
  try {
    const config = writeConfig(dir);
    server = startServer(config, out);
    const port = await server.port;
    const base = `http://127.0.0.1:${port}`;

    browser = await chromium.launch({
      executablePath: chromiumPath,
      timeout: WAIT,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'vi-VN' });
    context.setDefaultTimeout(WAIT);
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });

    const bot = page.locator('.bubble.bot');
    const me = page.locator('.bubble.me');
    const lastQuick = page.locator('.quick').last();
    // Waits until there are more than `before` bot bubbles and none arrives for a short while (the bot
    // may answer with several messages), then returns the new bubbles' texts.
    const waitForAnswer = async (before) => {
      await page.waitForFunction((n) => document.querySelectorAll('.bubble.bot').length > n, before, { timeout: WAIT });
      let count = await bot.count();
      for (let settled = 0; settled < 3; ) { // three quiet polls (the page polls every 500 ms)
        await page.waitForTimeout(400);
        const now = await bot.count();
        settled = now === count ? settled + 1 : 0;
        count = now;
      }
      return (await bot.allTextContents()).slice(before);
    };
    const assertTexts = (texts, what) => {
      assert.ok(texts.length > 0, `${what}: no bot bubble`);
      for (const s of texts) assert.ok(s.trim().length > 0, `${what}: an empty bot bubble`);
      for (const s of texts) assert.doesNotMatch(s, /\uFFFD|Ã[\u0080-\u00BF]|Ä[\u0080-\u00BF]/, `${what}: mojibake in "${s}"`);
    };

    // 1. The page, served as UTF-8, sends GET_STARTED by itself: a greeting with quick replies.
    const response = await page.goto(`${base}/chat`, { timeout: WAIT });
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-type'] ?? '', /text\/html;\s*charset=utf-8/i);
    assert.match(await page.title(), /trò chuyện/, 'the page title is not decoded as UTF-8');
    const greeting = await waitForAnswer(0);
    assertTexts(greeting, 'greeting');
    assert.equal(await me.count(), 1, 'the automatic GET_STARTED bubble is shown once');
    await lastQuick.locator('button').first().waitFor({ state: 'visible' });

    // 2. A menu category button: its topics come back as new buttons.
    const menu = page.locator('.quick button[data-payload^="MENU:"]').first();
    await menu.waitFor({ state: 'visible' });
    const menuTitle = (await menu.textContent()).trim();
    assert.ok(menuTitle.length > 0, 'a menu button without a title');
    let before = await bot.count();
    let mine = await me.count();
    await menu.click();
    await page.waitForFunction((n) => document.querySelectorAll('.bubble.me').length > n, mine, { timeout: WAIT });
    assert.equal((await me.last().textContent()).trim(), menuTitle, 'the clicked button title is echoed');
    assertTexts(await waitForAnswer(before), 'menu category');
    const topic = lastQuick.locator('button[data-payload^="TOPIC:"]').first();
    await topic.waitFor({ state: 'visible' });
    const topicButtons = await lastQuick.locator('button').count();
    assert.ok(topicButtons >= 1, 'the category shows its topic buttons');
    for (const b of await lastQuick.locator('button').all()) {
      assert.ok((await b.textContent()).trim().length > 0, 'a quick reply without a title');
      assert.ok(((await b.getAttribute('data-payload')) ?? '').length > 0, 'a quick reply without a payload');
    }

    // 3. A topic button: an answer.
    before = await bot.count();
    mine = await me.count();
    const quickBoxes = await page.locator('.quick').count();
    await topic.click();
    assert.equal(await page.locator('.quick').count(), quickBoxes - 1, 'the clicked quick-reply row is removed');
    assert.equal(await me.count(), mine + 1);
    const answer = await waitForAnswer(before);
    assertTexts(answer, 'topic answer');
    assert.ok(answer.join('').trim().length >= 20, 'the topic answer is suspiciously short');

    // 4. A typed question without diacritics, sent with Enter.
    before = await bot.count();
    mine = await me.count();
    const input = page.locator('#text');
    await input.fill('phan loai rac nhu the nao');
    await input.press('Enter');
    await page.waitForFunction((n) => document.querySelectorAll('.bubble.me').length > n, mine, { timeout: WAIT });
    assert.equal((await me.last().textContent()).trim(), 'phan loai rac nhu the nao');
    assert.equal(await input.inputValue(), '', 'the input is cleared after sending');
    assertTexts(await waitForAnswer(before), 'free-text answer');

    // The newest message is scrolled into view, above the fixed input bar.
    const lastBox = await page.locator('#log > *').last().boundingBox();
    const formBox = await page.locator('#form').boundingBox();
    assert.ok(lastBox && formBox && lastBox.y < formBox.y, 'the newest message is hidden behind the input bar');

    // 5. Screenshots: a non-empty PNG at desktop and phone size.
    const shot = path.join(dir, 'chat-desktop.png');
    await page.screenshot({ path: shot, timeout: WAIT });
    const png = fs.readFileSync(shot);
    assert.ok(png.length > 1000, 'the screenshot is empty');
    assert.ok(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 'not a PNG');

    // 6. Phone viewport: nothing wider than the screen, input bar and send button on screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(200);
    const layout = await page.evaluate(() => {
      const vw = document.documentElement.clientWidth;
      const wide = [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > vw + 1)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className}`);
      const send = document.getElementById('send').getBoundingClientRect();
      return {
        vw,
        scrollWidth: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
        logScrollWidth: document.getElementById('log').scrollWidth,
        logClientWidth: document.getElementById('log').clientWidth,
        wide,
        sendVisible: send.right <= vw && send.bottom <= window.innerHeight && send.width > 0,
      };
    });
    assert.ok(layout.scrollWidth <= layout.vw, `horizontal overflow at 390 px: ${JSON.stringify(layout)}`);
    assert.ok(layout.logScrollWidth <= layout.logClientWidth, `the message log scrolls sideways: ${JSON.stringify(layout)}`);
    assert.deepEqual(layout.wide, [], 'elements wider than the phone screen');
    assert.ok(layout.sendVisible, 'the send button is off screen on a phone');
    const phoneShot = path.join(dir, 'chat-phone.png');
    await page.screenshot({ path: phoneShot, timeout: WAIT });
    assert.ok(fs.statSync(phoneShot).size > 1000, 'the phone screenshot is empty');
    t.diagnostic(`screenshots: ${shot} ${phoneShot}`);

    assert.deepEqual(pageErrors, [], 'JavaScript errors on the page');
    await context.close();
  } catch (e) {
    if (out.text) t.diagnostic(`pgibot output:\n${out.text.slice(-4000)}`);
    throw e;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await stopServer(server?.child);
    if (!process.env.PGIBOT_WEB_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  }
});
