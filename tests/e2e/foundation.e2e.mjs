#!/usr/bin/env node
// End-to-end test of the ThangLong web front end against a running server.
//
//   THANGLONG_BASE_URL=http://127.0.0.1:8080 node tests/e2e/foundation.e2e.mjs
//
// Env: THANGLONG_BASE_URL (required), THANGLONG_SCREENSHOT_DIR (default tests/e2e/out),
//      THANGLONG_CHROMIUM (default /usr/bin/chromium).
// Needs `npm ci` in web/ (playwright-core) and Debian's chromium. Prints one line per check and
// ends with "N passed, M failed"; exits non-zero on any failure.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assert,
  check,
  chromium,
  CHROMIUM,
  CHROMIUM_ARGS,
  failSetup,
  finish,
  screenshotPath,
  startWatchdog,
  TIMEOUT,
  url,
} from './harness.mjs';

const USER = { username: 'citizen', password: 'ThangLong@2025' };
const shot = (page, name) => page.screenshot({ path: screenshotPath(name) });

startWatchdog(180);

const profile = mkdtempSync(join(tmpdir(), 'thanglong-e2e-'));
let context;
const consoleErrors = [];
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
  });
  context.setDefaultTimeout(TIMEOUT);
  context.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(`${msg.text()} @ ${msg.location()?.url ?? ''}`);
  });
  context.on('weberror', (err) => consoleErrors.push(`uncaught: ${err.error().message}`));
  const page = context.pages()[0] ?? (await context.newPage());
  const header = page.locator('header');

  // 1. Home
  await check('home page renders', async () => {
    const res = await page.goto(url('/'), { waitUntil: 'networkidle' });
    assert(res && res.ok(), `GET / → ${res?.status()}`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    assert((await page.locator('html').getAttribute('lang')) === 'vi', 'html lang is not "vi"');
    for (const sel of ['header', 'nav', 'main', 'footer']) assert((await page.locator(sel).count()) > 0, `no <${sel}>`);
    await page.getByRole('link', { name: 'Tra cứu thủ tục' }).waitFor();
    await shot(page, '01-home');
  });
  await check('home page is served with a Content-Security-Policy', async () => {
    const res = await page.request.get(url('/'));
    const csp = res.headers()['content-security-policy'] ?? '';
    assert(/script-src 'self'/.test(csp), `CSP header: "${csp}"`);
  });

  // 2. Procedure search without diacritics
  let code = '';
  let name = '';
  await check('procedure search "dang ky khai sinh" ranks "Thủ tục đăng ký khai sinh" first', async () => {
    await page.getByRole('link', { name: 'Tra cứu thủ tục' }).click();
    await page.waitForURL(/\/procedures$/);
    await page.getByLabel('Tên hoặc mã thủ tục').fill('dang ky khai sinh');
    // Real names read "Thủ tục đăng ký khai sinh"; the server ranks the closest name first.
    const hit = page.locator('.results .result').filter({ hasText: /đăng ký khai sinh/i });
    await hit.first().waitFor();
    await page.waitForURL(/[?&]q=dang(\+|%20)ky(\+|%20)khai(\+|%20)sinh/);
    const item = page.locator('.results .result').first();
    name = (await item.getByRole('link').first().innerText()).trim();
    code = (await item.locator('dd').first().innerText()).trim();
    assert(/^(Thủ tục )?đăng ký khai sinh$/i.test(name), `the first result should be the birth registration itself, got "${name}"`);
    assert(code, 'result has no code');
    const status = await page.getByTestId('result-count').innerText();
    assert(/\d/.test(status), `result count "${status}"`);
    await shot(page, '02-procedures-search');
    return `${code} ${name}; ${status}`;
  });

  // 3. Procedure detail
  await check('procedure detail shows code and name', async () => {
    assert(code, 'no procedure picked in the previous step');
    await page.getByRole('link', { name, exact: true }).first().click();
    await page.waitForURL(new RegExp(`/procedures/${code.replace(/\./g, '\\.')}$`));
    const h1 = page.getByTestId('procedure-name');
    await h1.waitFor();
    assert((await h1.innerText()).includes(name), `h1 is "${await h1.innerText()}"`);
    assert((await page.getByTestId('procedure-code').innerText()).includes(code), 'code not shown');
    await page.getByText('Thời hạn giải quyết').first().waitFor();
    await shot(page, '03-procedure-detail');
  });

  // 4. Log in
  await check('login as citizen greets the user in the header', async () => {
    await header.getByRole('link', { name: 'Đăng nhập' }).click();
    await page.waitForURL(/\/login$/);
    await page.getByLabel('Tên đăng nhập').fill(USER.username);
    await page.getByLabel('Mật khẩu').fill(USER.password);
    await page.locator('main').getByRole('button', { name: 'Đăng nhập' }).click();
    const greeting = header.getByTestId('greeting');
    await greeting.waitFor();
    const text = await greeting.innerText();
    assert(/^Xin chào, .+\(.+\)$/.test(text.trim()), `greeting "${text}"`);
    assert(await page.evaluate(() => !!sessionStorage.getItem('thanglong.token')), 'no token in sessionStorage');
    await header.getByRole('button', { name: 'Đăng xuất' }).waitFor();
    await shot(page, '04-logged-in');
    return text.trim();
  });

  // 5. Log out
  await check('logout brings back the login link', async () => {
    await header.getByRole('button', { name: 'Đăng xuất' }).click();
    await header.getByRole('link', { name: 'Đăng nhập' }).waitFor();
    await page.waitForURL((u) => new URL(u).pathname === '/');
    assert((await header.getByTestId('greeting').count()) === 0, 'greeting still shown');
    assert(await page.evaluate(() => !sessionStorage.getItem('thanglong.token')), 'token still in sessionStorage');
    await shot(page, '05-logged-out');
  });

  // 6. Hà Nội's communes
  await check('/units/01 lists Hà Nội communes', async () => {
    await page.goto(url('/units/01'), { waitUntil: 'networkidle' });
    await page.getByTestId('unit-name').waitFor();
    assert((await page.getByTestId('unit-name').innerText()).includes('Hà Nội'), 'unit 01 is not Hà Nội');
    const items = page.getByTestId('communes-list').locator('li');
    await items.first().waitFor();
    const n = await items.count();
    assert(n > 0, 'no communes');
    await shot(page, '06-units-01');
    return `${n} communes; ${await page.getByTestId('communes-count').innerText()}`;
  });

  // 7. English
  await check('English switch translates the UI and sets <html lang>', async () => {
    await page.goto(url('/'), { waitUntil: 'networkidle' });
    await header.getByRole('button', { name: /English/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Hà Nội Public Service Portal' }).waitFor();
    await page.getByRole('navigation').getByRole('link', { name: 'Administrative units' }).waitFor();
    assert((await page.locator('html').getAttribute('lang')) === 'en', 'html lang is not "en"');
    await page.reload({ waitUntil: 'networkidle' });
    await page.getByRole('link', { name: 'Find a procedure' }).waitFor(); // choice kept in localStorage
    await shot(page, '07-english');
    await header.getByRole('button', { name: /Tiếng Việt/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Cổng dịch vụ công Hà Nội' }).waitFor();
  });

  // 8. Phone viewport
  await check('phone viewport (375x812) has no horizontal scroll on /procedures', async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    await page.goto(url('/procedures?q=dang%20ky%20khai%20sinh'), { waitUntil: 'networkidle' });
    await page.locator('.results .result').first().waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    await shot(page, '08-phone-procedures');
    assert(width <= 375, `scrollWidth ${width} > 375`);
    return `scrollWidth ${width}`;
  });

  // 9. User management by the city admin
  await check('admin creates an official and disables the account', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(url('/login'), { waitUntil: 'networkidle' });
    await page.getByLabel('Tên đăng nhập').fill('admin');
    await page.getByLabel('Mật khẩu').fill('ThangLong@2025');
    await page.locator('main').getByRole('button', { name: 'Đăng nhập' }).click();
    await header.getByTestId('greeting').waitFor();
    await page.goto(url('/admin/users'), { waitUntil: 'networkidle' });
    await page.getByRole('heading', { level: 1, name: 'Quản lý người dùng' }).waitFor();
    await page.getByLabel('Tên đăng nhập').fill('e2e.lan');
    await page.getByLabel('Họ và tên').fill('Đỗ Thị Lan');
    await page.getByLabel('Vai trò').selectOption('desk_officer');
    await page.getByLabel('Mã cơ quan').fill('UBND00008');
    await page.getByLabel('Mật khẩu').fill('Một mật khẩu dài 2025');
    await page.getByRole('button', { name: 'Tạo tài khoản' }).click();
    const row = page.locator('tr').filter({ hasText: 'e2e.lan' });
    await row.waitFor();
    assert((await row.innerText()).includes('Đỗ Thị Lan'), 'new row lacks the full name');
    await shot(page, '09-admin-users');
    await row.getByRole('button', { name: 'Vô hiệu hoá' }).click();
    await row.getByText('Đã vô hiệu hoá').waitFor();
    // The server agrees: the disabled account cannot log in.
    const res = await page.request.post(url('/api/v1/auth/login'), {
      data: { username: 'e2e.lan', password: 'Một mật khẩu dài 2025' },
    });
    assert(res.status() === 401, `disabled account login gave ${res.status()}`);
    await header.getByRole('button', { name: 'Đăng xuất' }).click();
    await header.getByRole('link', { name: 'Đăng nhập' }).waitFor();
  });

  // 10. Console
  await check('no console errors (incl. CSP violations)', async () => {
    assert(consoleErrors.length === 0, `${consoleErrors.length}: ${consoleErrors.slice(0, 3).join(' | ')}`);
  });
} catch (e) {
  failSetup(e);
} finally {
  await context?.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}

finish();
