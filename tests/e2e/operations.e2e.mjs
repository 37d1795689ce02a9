#!/usr/bin/env node
// End-to-end test of the operations centre (/ops) against a running server: an operator logs in and
// opens the page from the menu; the map of Hà Nội is drawn from our own data (outline and 126 units,
// no tile server); an air-quality station created through the NGSI-LD API appears on the map over the
// live feed (server-sent events, no reload); a simulated PM2.5 spike (values above 150 µg/m³ whose
// observedAt span more than an hour) raises an alert (the alerts module's rule "pm25 > 150 sustained
// 1 h") that appears on the map and in the list, again without a reload; the operator acknowledges it
// and its status changes, in the page and in the API; the station's values and history; a streetlight
// reported faulty shows on the map and in its tile until it is repaired; English.
//
//   THANGLONG_BASE_URL=http://127.0.0.1:8080 node tests/e2e/operations.e2e.mjs
//
// Env: THANGLONG_BASE_URL (required), THANGLONG_SCREENSHOT_DIR (default tests/e2e/out),
//      THANGLONG_CHROMIUM (default /usr/bin/chromium). Prints one line per check and ends with
//      "N passed, M failed".
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
const SDM = '/ngsi-ld/v1/jsonldContexts/thanglong-smart-data-models.jsonld';
const LINK = `<${url(SDM)}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`;
const STATION = `urn:ngsi-ld:AirQualityObserved:HN-E2E-${Date.now().toString(36)}`;
const LIGHT = `urn:ngsi-ld:Streetlight:HN-E2E-${Date.now().toString(36)}`;
const ALERT_WAIT = 90_000;  // the rule engine judges on its own schedule
const shot = (page, name) => page.screenshot({ path: screenshotPath(`ops-${name}`), fullPage: true });

startWatchdog(300);

// The test streetlight's Smart Data Models status, through the NGSI-LD API.
const setLightStatus = (token, value) =>
  api('PATCH', `/ngsi-ld/v1/entities/${encodeURIComponent(LIGHT)}/attrs`, token, { status: { type: 'Property', value } }, { Link: LINK });

// Waits until the map shows `n` markers of an entity type.
const waitForMarkers = (page, type, n) =>
  page.waitForFunction(([t, k]) => document.querySelectorAll(`path.ops-sensor-${t}`).length === k, [type, n]);
// Waits until the number in an element (a tile's value or detail) is `n`.
const waitForNumber = (page, selector, n) =>
  page.waitForFunction(
    ([sel, k]) => Number(document.querySelector(sel)?.textContent?.replace(/\D/g, '')) === k,
    [selector, n],
  );
const LIGHTS_VALUE = '[data-testid="tile-lights"] .ops-tile-value';
const LIGHTS_DETAIL = '[data-testid="tile-lights"] .ops-tile-detail';

async function api(method, path, token, body, headers = {}) {
  const res = await fetch(url(path), {
    method,
    headers: {
      Accept: 'application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  return { status: res.status, data };
}

const iso = (msAgo) => new Date(Date.now() - msAgo).toISOString();
const MIN = 60_000;

const consoleErrors = [];
let browser;
try {
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({
    viewport: { width: 1400, height: 1000 },
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
  });
  context.setDefaultTimeout(TIMEOUT);
  context.on('console', (msg) => {
    // A 404 of a module not deployed (e.g. the temporal API) is the page's business, not an error.
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) consoleErrors.push(msg.text());
  });
  context.on('weberror', (err) => consoleErrors.push(`uncaught: ${err.error().message}`));
  const page = await context.newPage();

  const login = await api('POST', '/api/v1/auth/login', null, { username: 'operator', password: PASSWORD });
  assert(login.status === 200, `API login: ${login.status}`);
  const token = login.data.token;

  await check('a citizen does not get the operations feed (403), an operator does (text/event-stream)', async () => {
    const citizen = await api('POST', '/api/v1/auth/login', null, { username: 'citizen', password: PASSWORD });
    const denied = await api('GET', '/api/v1/ops/events', citizen.data.token);
    assert(denied.status === 403, `citizen: ${denied.status}`);
    const ctl = new AbortController();
    const res = await fetch(url('/api/v1/ops/events'), { headers: { Authorization: `Bearer ${token}` }, signal: ctl.signal });
    assert(res.status === 200, `operator: ${res.status}`);
    assert(/text\/event-stream/.test(res.headers.get('content-type')), res.headers.get('content-type'));
    const reader = res.body.getReader();
    const { value } = await reader.read();
    ctl.abort();
    const first = new TextDecoder().decode(value);
    assert(first.includes('retry:'), `first bytes: ${first}`);
  });

  await check('log in as operator and open "Trung tâm điều hành" from the menu', async () => {
    await page.goto(url('/login'), { waitUntil: 'networkidle' });
    await page.getByLabel('Tên đăng nhập').fill('operator');
    await page.getByLabel('Mật khẩu').fill(PASSWORD);
    await page.locator('main').getByRole('button', { name: 'Đăng nhập' }).click();
    await page.locator('header').getByTestId('greeting').waitFor();
    await page.locator('nav').getByRole('link', { name: 'Trung tâm điều hành' }).click();
    await page.waitForURL(/\/ops$/);
    await page.getByRole('heading', { level: 1, name: 'Trung tâm điều hành' }).waitFor();
    await page.locator('[data-testid="feed-state"][data-state="open"]').waitFor();
  });

  await check('the map draws the outline and the 126 units from our own data, no tile server', async () => {
    await page.locator('[data-testid="ops-map"] .leaflet-overlay-pane path').first().waitFor();
    const units = await page.locator('[data-testid="ops-map"] path.ops-unit').count();
    assert(units === 126, `${units} unit markers`);
    const tiles = await page.locator('[data-testid="ops-map"] .leaflet-tile').count();
    assert(tiles === 0, `${tiles} map tiles`);
    const external = await page.evaluate(() =>
      performance.getEntriesByType('resource').map((e) => e.name).filter((n) => !n.startsWith(location.origin)),
    );
    assert(external.length === 0, `requests outside the server: ${external.join(', ')}`);
    await shot(page, 'initial');
  });

  await check('a station created through the NGSI-LD API appears on the map over the live feed', async () => {
    const before = await page.locator('path.ops-sensor-AirQualityObserved').count();
    const created = await api(
      'POST',
      '/ngsi-ld/v1/entities',
      token,
      {
        id: STATION,
        type: 'AirQualityObserved',
        name: { type: 'Property', value: 'Trạm kiểm thử Hoàn Kiếm' },
        pm25: { type: 'Property', value: 38, unitCode: 'GQ', observedAt: iso(120 * MIN) },
        location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [105.8522, 21.0287] } },
      },
      { Link: LINK },
    );
    assert(created.status === 201, `create: ${created.status} ${JSON.stringify(created.data)}`);
    await waitForMarkers(page, 'AirQualityObserved', before + 1);
    return `${before + 1} stations on the map`;
  });

  await check('a streetlight reported faulty appears on the map and in its tile; repaired, it leaves both', async () => {
    const tileValue = page.getByTestId('tile-lights').locator('.ops-tile-value');
    await tileValue.waitFor();
    const digits = async () => Number((await tileValue.textContent()).replace(/\D/g, ''));
    const before = await digits();
    const markersBefore = await page.locator('path.ops-sensor-Streetlight').count();
    const created = await api(
      'POST',
      '/ngsi-ld/v1/entities',
      token,
      {
        id: LIGHT,
        type: 'Streetlight',
        name: { type: 'Property', value: 'Đèn kiểm thử Tràng Tiền' },
        powerState: { type: 'Property', value: 'on' },
        status: { type: 'Property', value: 'defectiveLamp' },
        location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [105.8555, 21.0245] } },
      },
      { Link: LINK },
    );
    assert(created.status === 201, `create: ${created.status} ${JSON.stringify(created.data)}`);
    await waitForMarkers(page, 'Streetlight', markersBefore + 1);
    await waitForNumber(page, LIGHTS_VALUE, before + 1);
    const repaired = await setLightStatus(token, 'ok');
    assert(repaired.status === 204, `repair: ${repaired.status} ${JSON.stringify(repaired.data)}`);
    await waitForMarkers(page, 'Streetlight', markersBefore);
    await waitForNumber(page, LIGHTS_VALUE, before);
    return `faulty ${before} → ${before + 1} → ${before}`;
  });

  await check('a faulty streetlight deleted through the API leaves the map and the count of all streetlights', async () => {
    const numberIn = async (selector) => Number((await page.locator(selector).textContent()).replace(/\D/g, ''));
    const total = await numberIn(LIGHTS_DETAIL);
    const faulty = await numberIn(LIGHTS_VALUE);
    const markers = await page.locator('path.ops-sensor-Streetlight').count();
    const broken = await setLightStatus(token, 'defectiveLamp');
    assert(broken.status === 204, `fault: ${broken.status} ${JSON.stringify(broken.data)}`);
    await waitForMarkers(page, 'Streetlight', markers + 1);
    const deleted = await api('DELETE', `/ngsi-ld/v1/entities/${encodeURIComponent(LIGHT)}`, token, undefined, { Link: LINK });
    assert(deleted.status === 204, `delete: ${deleted.status} ${JSON.stringify(deleted.data)}`);
    await waitForMarkers(page, 'Streetlight', markers);
    await waitForNumber(page, LIGHTS_VALUE, faulty);
    await waitForNumber(page, LIGHTS_DETAIL, total - 1);
    return `streetlights ${total} → ${total - 1}, faulty back to ${faulty}, markers back to ${markers}`;
  });

  let alert = null;
  await check('a simulated PM2.5 spike (> 150 µg/m³ for more than an hour) raises an alert, on the map and in the list', async () => {
    // Four observations, 90 minutes to now, each above the threshold: sent as a device would.
    for (const [value, ago] of [[168, 95], [181, 65], [192, 35], [203, 1]]) {
      const r = await api(
        'PATCH',
        `/ngsi-ld/v1/entities/${encodeURIComponent(STATION)}/attrs`,
        token,
        { pm25: { type: 'Property', value, unitCode: 'GQ', observedAt: iso(ago * MIN) } },
        { Link: LINK },
      );
      assert(r.status === 204, `update: ${r.status} ${JSON.stringify(r.data)}`);
    }
    // The page follows without a reload: the tile names our station as the worst.
    await page.getByTestId('tile-air-worst').filter({ hasText: 'Trạm kiểm thử Hoàn Kiếm' }).waitFor();
    const row = page.locator(`[data-testid="alert"][data-entity-id="${STATION}"]`);
    await row.first().waitFor({ timeout: ALERT_WAIT });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="map-alert-count"]')?.dataset.count) >= 1);
    const onMap = await page.locator('path.ops-alert-marker').count();
    assert(onMap >= 1, 'no alert ring on the map');
    const status = await row.first().getByTestId('alert-status').getAttribute('data-status');
    assert(status === 'open', `status ${status}`);
    alert = { id: await row.first().getAttribute('data-alert-id') };
    await shot(page, 'alert');
    return `alert ${alert.id}`;
  });

  await check('the operator acknowledges the alert; its status changes in the page and in the API', async () => {
    assert(alert, 'no alert to acknowledge');
    const row = page.locator(`[data-testid="alert"][data-alert-id="${alert.id}"]`);
    await row.getByTestId('alert-ack').click();
    await row.locator('[data-testid="alert-status"][data-status="acknowledged"]').waitFor();
    const got = await api('GET', `/api/v1/alerts/${encodeURIComponent(alert.id)}`, token);
    assert(got.status === 200, `GET alert: ${got.status}`);
    assert(got.data.status === 'acknowledged', `API status ${got.data.status}`);
    assert(got.data.acknowledged_by === 'operator', `acknowledged_by ${got.data.acknowledged_by}`);
    await shot(page, 'acknowledged');
  });

  await check('clicking the station shows its latest values and its history', async () => {
    await page.getByTestId('tile-air-worst').click();
    const panel = page.getByTestId('sensor-panel');
    await panel.getByRole('heading', { name: 'Trạm kiểm thử Hoàn Kiếm' }).waitFor();
    await panel.getByTestId('sensor-values').filter({ hasText: '203' }).waitFor();
    // The history comes from the temporal API; its points are the station's observations.
    await page.waitForFunction(() => {
      const el = document.querySelector('[data-testid="history-chart"]');
      return el && (el.dataset.points !== '' || el.parentElement.querySelector('[role="status"]'));
    });
    const points = await page.getByTestId('history-chart').getAttribute('data-points');
    await shot(page, 'sensor');
    assert(Number(points) >= 2, `history points: ${points || 'none (temporal API unavailable?)'}`);
    return `${points} points`;
  });

  await check('the page in English', async () => {
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: 'Operations centre' }).waitFor();
    await page.getByTestId('tile-traffic').filter({ hasText: 'Congested intersections' }).waitFor();
    await page.getByRole('button', { name: 'Tiếng Việt' }).click();
  });

  await check('no errors in the browser console', async () => {
    assert(consoleErrors.length === 0, consoleErrors.join(' | '));
  });
} catch (e) {
  failSetup(e);
} finally {
  await browser?.close();
}
finish();
