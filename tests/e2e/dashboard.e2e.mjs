#!/usr/bin/env node
// End-to-end test of the service-index dashboard (Decision 766/QĐ-TTg) against a running server with
// demo data and simulated dossiers of the last 60 days: log in, open the dashboard from the menu, the
// ranking lists every commune of Hà Nội (those the API ranks with their rank, the others after them),
// sorting and highlighting, the uPlot chart is drawn, choosing a commune (selector or ranking) changes
// the figures to the API's, a custom period, English, a phone-sized screen, no console errors.
//
//   THANGLONG_BASE_URL=http://127.0.0.1:8080 node tests/e2e/dashboard.e2e.mjs
//
// Env: THANGLONG_BASE_URL (required), THANGLONG_SCREENSHOT_DIR (default tests/e2e/out),
//      THANGLONG_CHROMIUM (default /usr/bin/chromium). Needs simulated dossiers (run_e2e.sh BIN
//      dashboard.e2e.mjs 300). Prints one line per check and ends with "N passed, M failed".
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

const PASSWORD = 'ThangLong@2025';
const shot = (page, name) => page.screenshot({ path: screenshotPath(`dash-${name}`), fullPage: true });

startWatchdog(240);

/** Hà Nội's calendar date, `days` from today, as YYYY-MM-DD. */
function hanoiDate(days = 0) {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date());
  return new Date(Date.parse(`${today}T00:00:00Z`) + days * 86400000).toISOString().slice(0, 10);
}

async function apiGet(path) {
  const res = await fetch(url(`/api/v1${path}`));
  assert(res.ok, `GET ${path}: ${res.status}`);
  return res.json();
}

const consoleErrors = [];
let browser;

/** The total score tile shows `expected` (the API's score_100). */
async function waitScore(page, expected) {
  await page.waitForFunction(
    (v) => Math.abs(Number(document.querySelector('[data-testid="total-score"]')?.dataset.value) - v) < 1e-9,
    expected,
  );
}

/** Pixels of the chart's canvas: [painted, red (the score line)]. */
function canvasPixels(page) {
  return page.evaluate(() => {
    const c = document.querySelector('[data-testid="chart"] canvas');
    if (!c) return [0, 0];
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    let red = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] > 0) painted++;
      if (d[i + 3] > 128 && d[i] > 100 && d[i + 1] < 90 && d[i + 2] < 90) red++;
    }
    return [painted, red];
  });
}

try {
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
  });
  context.setDefaultTimeout(TIMEOUT);
  context.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(`${msg.text()} @ ${msg.location()?.url ?? ''}`);
  });
  context.on('weberror', (err) => consoleErrors.push(`uncaught: ${err.error().message}`));
  const page = await context.newPage();

  const from = hanoiDate(-29);
  const to = hanoiDate(0);
  const communes = (await apiGet('/admin-units?parent=01')).items;
  const ranking = (await apiGet(`/stats/service-index/ranking?from=${from}&to=${to}`)).items;
  const city = await apiGet(`/stats/service-index?unit=01&from=${from}&to=${to}`);
  const rows = page.locator('[data-testid="ranking"] tbody tr');

  await check('anonymous visitors see the dashboard link (the service index is public)', async () => {
    await page.goto(url('/'), { waitUntil: 'networkidle' });
    await page.locator('nav').getByRole('link', { name: 'Chỉ số phục vụ' }).waitFor();
  });

  await check('log in as operator and open the dashboard from the menu', async () => {
    await page.goto(url('/login'), { waitUntil: 'networkidle' });
    await page.getByLabel('Tên đăng nhập').fill('operator');
    await page.getByLabel('Mật khẩu').fill(PASSWORD);
    await page.locator('main').getByRole('button', { name: 'Đăng nhập' }).click();
    await page.locator('header').getByTestId('greeting').waitFor();
    await page.locator('nav').getByRole('link', { name: 'Chỉ số phục vụ' }).click();
    await page.waitForURL(/\/dashboard$/);
    await page.getByRole('heading', { level: 1, name: 'Chỉ số phục vụ người dân, doanh nghiệp' }).waitFor();
  });

  await check('the city tiles show the API figures of the last 30 days', async () => {
    assert(city.received > 0, 'the demo store has no dossiers in the last 30 days');
    await waitScore(page, city.score_100);
    const received = await page.getByTestId('total-received').innerText();
    assert(Number(received.replace(/\D/g, '')) === city.received, `received ${received} != ${city.received}`);
    await page.locator('[data-group="progress"] h3').filter({ hasText: 'Tiến độ giải quyết' }).waitFor();
    await page.locator('[data-group="online_payment"]').filter({ hasText: 'Chưa đo được' }).waitFor();
    return `score ${city.score_100.toFixed(1)}, ${city.received} dossiers`;
  });

  await check(`the ranking lists all ${communes.length} communes, the ${ranking.length} ranked ones in API order`, async () => {
    assert(communes.length === 126, `Hà Nội has ${communes.length} communes`);
    await page.getByTestId('ranking').waitFor();
    const n = await rows.count();
    assert(n === communes.length, `${n} rows`);
    const ranked = await page.locator('[data-testid="ranking"] tbody tr:not(.rank-none)').count();
    assert(ranked === ranking.length, `${ranked} ranked rows, the API ranks ${ranking.length}`);
    const firstUnits = await rows.evaluateAll((trs) => trs.slice(0, 5).map((tr) => tr.dataset.unit));
    const apiUnits = ranking.slice(0, 5).map((i) => i.unit);
    assert(firstUnits.join() === apiUnits.join(), `first rows ${firstUnits} != ${apiUnits}`);
    const band = Math.min(5, Math.floor(ranking.length / 2));
    const top = await page.locator('[data-testid="ranking"] tr.rank-top').count();
    const bottom = await page.locator('[data-testid="ranking"] tr.rank-bottom').count();
    assert(top === band && bottom === band, `highlighted ${top} top, ${bottom} bottom; expected ${band}`);
    return `${n} rows, ${ranked} ranked`;
  });

  await check('sorting by dossiers received, then back by rank', async () => {
    await page.getByTestId('ranking').getByRole('button', { name: /^Tiếp nhận/ }).click();
    await page.locator('[data-testid="ranking"] th[aria-sort="descending"]').waitFor();
    const most = Math.max(...ranking.map((i) => i.received));
    const first = await rows.first().locator('td').nth(3).innerText();
    assert(Number(first) === most, `first row received ${first}, the most is ${most}`);
    await page.getByTestId('ranking').getByRole('button', { name: /^Hạng/ }).click();
    await page.locator('[data-testid="ranking"] th[aria-sort="ascending"]').waitFor();
    assert((await rows.first().getAttribute('data-rank')) === '1', 'rank 1 is not first again');
  });

  await check('the chart is drawn (uPlot canvas with the score line)', async () => {
    await page.locator('[data-testid="chart"][data-drawn="30"]').waitFor();
    const [painted, red] = await canvasPixels(page);
    assert(painted > 5000 && red > 100, `canvas: ${painted} painted pixels, ${red} red`);
    await page.locator('.u-legend').filter({ hasText: 'Tỷ lệ giải quyết đúng hạn' }).waitFor();
    await shot(page, '01-desktop-city');
    return `${painted} painted, ${red} red pixels`;
  });

  const busiest = [...ranking].sort((a, b) => b.received - a.received)[0];
  const busiestName = communes.find((c) => c.code === busiest.unit)?.name;
  await check(`choosing ${busiestName} changes the figures to the commune's`, async () => {
    const idx = await apiGet(`/stats/service-index?unit=${busiest.unit}&from=${from}&to=${to}`);
    assert(idx.score_100 !== city.score_100 || idx.received !== city.received, 'same figures as the city');
    await page.getByLabel('Đơn vị', { exact: true }).selectOption(busiest.unit);
    await page.waitForURL(new RegExp(`unit=${busiest.unit}`));
    await waitScore(page, idx.score_100);
    await page.getByRole('heading', { name: `Điểm chỉ số: ${busiestName}` }).waitFor();
    const received = await page.getByTestId('total-received').innerText();
    assert(Number(received) === idx.received, `received ${received} != ${idx.received}`);
    const rank = await page.getByTestId('unit-rank').innerText();
    assert(rank.includes(`${busiest.rank}/${ranking.length}`), `rank tile "${rank}"`);
    await page.locator(`[data-testid="ranking"] tr.rank-selected[data-unit="${busiest.unit}"]`).waitFor();
    await page.locator('[data-testid="chart"][data-drawn="30"]').waitFor();
    await shot(page, '02-desktop-commune');
    return `score ${idx.score_100.toFixed(1)} (city ${city.score_100.toFixed(1)}), rank ${busiest.rank}`;
  });

  const last = ranking[ranking.length - 1];
  await check('clicking a commune in the ranking drills into it; "whole city" goes back', async () => {
    const idx = await apiGet(`/stats/service-index?unit=${last.unit}&from=${from}&to=${to}`);
    await page.locator(`[data-testid="ranking"] tr[data-unit="${last.unit}"] a`).click();
    await page.waitForURL(new RegExp(`unit=${last.unit}`));
    await waitScore(page, idx.score_100);
    assert((await page.getByLabel('Đơn vị', { exact: true }).inputValue()) === last.unit, 'the selector did not follow');
    await page.getByRole('link', { name: 'Xem toàn thành phố' }).click();
    await page.waitForURL(/\/dashboard$/);
    await waitScore(page, city.score_100);
  });

  await check('a custom period of 7 days gives 7 daily points', async () => {
    await page.getByLabel('Kỳ đánh giá', { exact: true }).selectOption('custom');
    await page.getByLabel('Từ ngày').fill(hanoiDate(-6));
    await page.getByLabel('Đến ngày').fill(to);
    await page.getByRole('button', { name: 'Áp dụng' }).click();
    await page.waitForURL(/period=custom/);
    const idx = await apiGet(`/stats/service-index?unit=01&from=${hanoiDate(-6)}&to=${to}`);
    await waitScore(page, idx.score_100);
    await page.locator('[data-testid="chart"][data-drawn="7"]').waitFor();
    await page.getByLabel('Kỳ đánh giá', { exact: true }).selectOption('30');
    await waitScore(page, city.score_100);
  });

  await check('English', async () => {
    await page.locator('header').getByRole('button', { name: /English/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Service index for citizens and businesses' }).waitFor();
    await page.locator('[data-group="progress"] h3').filter({ hasText: 'Processing progress' }).waitFor();
    await page.getByTestId('ranking').getByRole('button', { name: /^Rank/ }).waitFor();
    await page.locator('.u-legend').filter({ hasText: 'Resolved on time' }).waitFor();
    await page.locator('nav').getByRole('link', { name: 'Service index' }).waitFor();
    await shot(page, '03-english');
    await page.locator('header').getByRole('button', { name: /Tiếng Việt/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Chỉ số phục vụ người dân, doanh nghiệp' }).waitFor();
  });

  await check('phone viewport (375x812): no horizontal scroll, the chart fits', async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    await page.goto(url(`/dashboard?unit=${busiest.unit}`), { waitUntil: 'networkidle' });
    await page.locator('[data-testid="chart"][data-drawn="30"]').waitFor();
    await page.getByTestId('ranking').waitFor();
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    const chart = await page.locator('[data-testid="chart"] canvas').first().boundingBox();
    await shot(page, '04-phone');
    assert(w <= 375, `scrollWidth ${w} > 375`);
    assert(chart && chart.x >= 0 && chart.x + chart.width <= 375, `chart at ${JSON.stringify(chart)}`);
    const [painted] = await canvasPixels(page);
    assert(painted > 2000, `canvas: ${painted} painted pixels`);
    return `scrollWidth ${w}, chart ${Math.round(chart.width)} px`;
  });

  await check('no console errors (incl. CSP violations)', async () => {
    assert(consoleErrors.length === 0, `${consoleErrors.length}: ${consoleErrors.slice(0, 3).join(' | ')}`);
  });
} catch (e) {
  failSetup(e);
} finally {
  await browser?.close().catch(() => {});
}

finish();
