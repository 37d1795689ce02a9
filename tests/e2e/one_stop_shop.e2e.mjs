#!/usr/bin/env node
// End-to-end test of the one-stop shop (một cửa) pages against a running server with demo data
// on a fresh store: a citizen applies online for a birth registration, the desk receives and
// assigns it, asks for a supplement that the citizen provides, the specialist proposes, the
// leader approves, the result is issued and returned, the citizen rates it; plus the public
// status lookup, a stale-version (409) reload, desk reception and a phone-sized check.
//
//   THANGLONG_BASE_URL=http://127.0.0.1:8080 node tests/e2e/one_stop_shop.e2e.mjs
//
// Env: THANGLONG_BASE_URL (required), THANGLONG_SCREENSHOT_DIR (default tests/e2e/out),
//      THANGLONG_CHROMIUM (default /usr/bin/chromium).
// Needs `npm ci` in web/ (playwright-core) and Debian's chromium. Prints one line per check and
// ends with "N passed, M failed"; exits non-zero on any failure. Each user has their own
// browser context (separate sessionStorage). Later steps depend on earlier ones.
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
const PROCEDURE = '1.001193'; // Thủ tục đăng ký khai sinh (commune level)
const COMMUNE = '00004'; // Phường Ba Đình — the demo desk, specialist and leader work at UBND00004
const CITIZEN_ID_LAST4 = '2345'; // the demo citizen's personal ID is 001090012345
const shot = (page, name) => page.screenshot({ path: screenshotPath(`oss-${name}`), fullPage: true });
const exact = (s) => new RegExp(`^\\s*${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);

startWatchdog(300);

const consoleErrors = [];
let browser;

async function newUserPage(label) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
  });
  context.setDefaultTimeout(TIMEOUT);
  context.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    // Expected failures the UI handles (409 stale version, 404 wrong check digits, 400 bad phone)
    // are logged by Chromium as "Failed to load resource"; anything else is a real error.
    if (/Failed to load resource: the server responded with a status of (400|404|409)/.test(text)) return;
    consoleErrors.push(`[${label}] ${text} @ ${msg.location()?.url ?? ''}`);
  });
  context.on('weberror', (err) => consoleErrors.push(`[${label}] uncaught: ${err.error().message}`));
  return context.newPage();
}

async function login(page, username) {
  await page.goto(url('/login'), { waitUntil: 'networkidle' });
  await page.getByLabel('Tên đăng nhập').fill(username);
  await page.getByLabel('Mật khẩu').fill(PASSWORD);
  await page.locator('main').getByRole('button', { name: 'Đăng nhập' }).click();
  await page.locator('header').getByTestId('greeting').waitFor();
}

/** Status pill on the dossier detail page reads exactly `label`. */
async function waitStatus(page, label) {
  await page.getByTestId('dossier-status').filter({ hasText: exact(label) }).waitFor();
}

/** Click an action button, fill its inputs, confirm, and wait for the resulting status. */
async function act(page, action, { note, assignee, agency, due } = {}, expectStatus) {
  await page.getByTestId('actions').getByRole('button', { name: action, exact: true }).click();
  const form = page.locator('form.action-form');
  await form.waitFor();
  if (assignee !== undefined) await form.getByLabel('Tên đăng nhập của người được phân công').fill(assignee);
  if (agency !== undefined) await form.getByLabel('Mã cơ quan chuyển đến').fill(agency);
  if (due !== undefined) await form.getByLabel('Ngày hẹn trả mới').fill(due);
  if (note !== undefined) await form.locator('textarea').fill(note);
  await form.getByRole('button', { name: `Xác nhận: ${action}` }).click();
  if (expectStatus) {
    await waitStatus(page, expectStatus);
    await page.getByTestId('notice').filter({ hasText: action }).waitFor();
  }
}

/** The queue row of `code` on the current queue page, pressing "Tải thêm" (keyset paging) until it shows.
 *  The demo store also holds simulated traffic, so the row need not be on the first page. */
async function findRow(page, code) {
  const row = page.locator(`tr[data-code="${code}"]`);
  await page.getByTestId('queue-count').filter({ hasText: /hồ sơ/ }).waitFor();
  for (let i = 0; i < 50; i++) {
    if (await row.count()) return row;
    const more = page.getByRole('button', { name: 'Tải thêm' });
    if (!(await more.count())) break;
    const before = await page.locator('tr[data-code]').count();
    await more.click();
    await page.waitForFunction((n) => document.querySelectorAll('tr[data-code]').length > n, before);
  }
  await row.waitFor();
  return row;
}

async function openFromQueue(page, code, query = '') {
  await page.goto(url(`/queue${query}`), { waitUntil: 'networkidle' });
  const row = await findRow(page, code);
  await row.getByRole('link', { name: code }).click();
  await page.waitForURL(new RegExp(`/dossiers/${code}$`));
  await page.getByTestId('dossier-status').waitFor();
}

/** Fill the birth registration form rendered from its schema (data/procedures/forms/1.001193-*.json). */
// The form moves focus to the offending input in an effect that runs after the error is painted, so
// the check waits for it (the page's default timeout, TIMEOUT) instead of reading
// document.activeElement once.
async function focusLandsOn(page, id) {
  return page.waitForFunction((want) => document.activeElement?.id === want, id).then(
    () => true,
    () => false,
  );
}

async function fillBirthForm(page, { relationship, child, dob, sex, place, mother }) {
  const form = page.getByTestId('schema-form');
  await form.getByLabel('Quan hệ của người yêu cầu với người được khai sinh').selectOption(relationship);
  const kid = form.getByRole('group', { name: 'Người được khai sinh', exact: true });
  await kid.getByLabel('Họ, chữ đệm và tên').fill(child);
  if (dob) await kid.getByLabel('Ngày, tháng, năm sinh').fill(dob);
  await kid.getByLabel('Giới tính').selectOption(sex);
  await kid.getByLabel('Nơi sinh').fill(place);
  await form.getByRole('group', { name: 'Mẹ', exact: true }).getByLabel('Họ, chữ đệm và tên').fill(mother);
}

let code = '';
try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const citizen = await newUserPage('citizen');
  const desk = await newUserPage('desk');
  const specialist = await newUserPage('specialist');
  const leader = await newUserPage('leader');
  const visitor = await newUserPage('visitor');

  // 1. The citizen finds the procedure and opens the online form
  await check('citizen logs in, finds "dang ky khai sinh" and opens 1.001193', async () => {
    await login(citizen, 'citizen');
    await citizen.locator('nav').getByRole('link', { name: 'Thủ tục hành chính' }).click();
    await citizen.getByLabel('Tên hoặc mã thủ tục').fill('dang ky khai sinh');
    const hit = citizen.locator('.results .result').filter({ hasText: PROCEDURE });
    await hit.first().waitFor();
    await hit.first().getByRole('link').first().click();
    await citizen.waitForURL(new RegExp(`/procedures/${PROCEDURE.replace(/\./g, '\\.')}$`));
    assert((await citizen.getByTestId('procedure-code').innerText()).includes(PROCEDURE), 'wrong procedure');
    await citizen.getByRole('link', { name: 'Nộp hồ sơ trực tuyến' }).waitFor();
    await shot(citizen, '01-procedure-apply-button');
    await citizen.getByRole('link', { name: 'Nộp hồ sơ trực tuyến' }).click();
    await citizen.waitForURL(/\/dossiers\/new\?procedure=1\.001193$/);
    await citizen.getByRole('heading', { level: 1, name: 'Nộp hồ sơ trực tuyến' }).waitFor();
  });

  // 2. The form is prefilled from /api/v1/me and rendered from the procedure's schema; a required
  //    field left empty is marked before sending, a server-side field error marks the input
  await check('applicant prefilled; the schema form marks a missing date of birth, then a bad phone number', async () => {
    const name = citizen.getByLabel('Họ và tên');
    await citizen.waitForFunction(() => document.querySelector('#df-pid')?.value === '001090012345');
    assert((await name.inputValue()) === 'Nguyễn Văn An', `full name "${await name.inputValue()}"`);
    await citizen.getByLabel('Phường, xã giải quyết hồ sơ').selectOption(COMMUNE);
    await citizen.getByLabel('Nhận trực tiếp tại Bộ phận một cửa').check();
    await citizen.getByLabel('Số điện thoại').fill('0912');
    // The schema's defaults are filled in (ethnicity "Kinh").
    const kid = citizen.getByTestId('schema-form').getByRole('group', { name: 'Người được khai sinh', exact: true });
    assert((await kid.getByLabel('Dân tộc').inputValue()) === 'Kinh', 'default ethnicity');
    await fillBirthForm(citizen, {
      relationship: 'Cha',
      child: 'Nguyễn Minh Khang',
      sex: 'Nam',
      place: 'Bệnh viện Phụ sản Hà Nội',
      mother: 'Trần Thị Bình',
    });
    for (const doc of ['Tờ khai đăng ký khai sinh', 'Giấy chứng sinh']) {
      await citizen.getByTestId('components').getByLabel(doc).check();
    }
    await citizen.getByRole('button', { name: 'Nộp hồ sơ', exact: true }).click();
    const dob = citizen.locator('#df-f-child--date_of_birth[aria-invalid="true"]');
    await dob.waitFor();
    const required = await citizen.locator('#df-error').innerText();
    assert(required.startsWith('Ngày, tháng, năm sinh:'), `error "${required}"`);
    assert(await focusLandsOn(citizen, 'df-f-child--date_of_birth'), 'focus not moved to the date of birth');
    await citizen.locator('#df-f-child--date_of_birth-error').waitFor();
    await shot(citizen, '02a-form-required-field');
    await dob.fill('2026-11-01');
    await citizen.getByRole('button', { name: 'Nộp hồ sơ', exact: true }).click();
    const phone = citizen.locator('#df-phone[aria-invalid="true"]');
    await phone.waitFor();
    const msg = await citizen.locator('#df-error').innerText();
    assert(msg.startsWith('Số điện thoại:'), `error "${msg}"`);
    assert(await focusLandsOn(citizen, 'df-phone'), 'focus not moved to the phone input');
    await shot(citizen, '02-form-field-error');
    return msg;
  });

  // 3. Submit and see the receipt
  await check('online submission shows the receipt (due date set at reception)', async () => {
    await citizen.getByLabel('Số điện thoại').fill('0912345678');
    await citizen.getByRole('button', { name: 'Nộp hồ sơ', exact: true }).click();
    await citizen.waitForURL(/\/dossiers\/[^/]+\/receipt$/);
    await citizen.getByRole('heading', { level: 1, name: 'Giấy tiếp nhận hồ sơ và hẹn trả kết quả' }).waitFor();
    code = (await citizen.getByTestId('receipt-code').innerText()).trim();
    assert(/^UBND00004-\d{6}-\d{4}$/.test(code), `dossier code "${code}"`);
    assert((await citizen.getByTestId('receipt-procedure').innerText()).includes('đăng ký khai sinh'), 'procedure');
    assert((await citizen.getByTestId('receipt-applicant').innerText()).includes('Nguyễn Văn An'), 'applicant');
    assert(/\d{2}:\d{2} \d{2}\/\d{2}\/\d{4}/.test(await citizen.getByTestId('receipt-submitted').innerText()), 'time');
    await citizen.getByTestId('receipt-pending-due').waitFor();
    await citizen.getByRole('button', { name: 'In giấy tiếp nhận' }).waitFor();
    await shot(citizen, '03-receipt-online');
    await citizen.emulateMedia({ media: 'print' });
    assert(!(await citizen.locator('header.site-header').isVisible()), 'header printed');
    assert(!(await citizen.getByRole('button', { name: 'In giấy tiếp nhận' }).isVisible()), 'print button printed');
    await shot(citizen, '04-receipt-print');
    await citizen.emulateMedia({ media: 'screen' });
    return code;
  });

  // 4. The desk receives it from the queue and assigns it
  await check('desk finds the dossier in the queue, receives it and assigns it to "specialist"', async () => {
    assert(code, 'no dossier from the previous step');
    await login(desk, 'desk');
    await desk.locator('nav').getByRole('link', { name: 'Hàng đợi' }).click();
    await desk.waitForURL(/\/queue$/);
    const submitted = desk.getByTestId('counts').locator('[data-status="submitted"]');
    await submitted.waitFor();
    assert(Number(await submitted.locator('.count-n').innerText()) >= 1, 'no submitted count');
    // The "new online submissions" tile filters the queue on that status.
    await submitted.click();
    await desk.waitForURL(/\/queue\?status=submitted$/);
    const row = await findRow(desk, code);
    assert((await row.innerText()).includes('Mới nộp trực tuyến'), `row: ${await row.innerText()}`);
    await shot(desk, '05-desk-queue');
    await row.getByRole('link', { name: code }).click();
    await waitStatus(desk, 'Mới nộp trực tuyến, chờ tiếp nhận');
    await act(desk, 'Tiếp nhận', {}, 'Đã tiếp nhận');
    const due = await desk.getByTestId('dossier-due').innerText();
    assert(/\d{2}:\d{2} \d{2}\/\d{2}\/\d{4}/.test(due), `due "${due}"`);
    await act(desk, 'Phân công xử lý', { assignee: 'specialist' }, 'Đang giải quyết');
    await shot(desk, '06-desk-received-assigned');
    return `due ${due.trim()}`;
  });

  // 5. Supplement loop: the desk asks, the citizen is notified and supplements
  const NOTE = 'Đề nghị bổ sung bản sao giấy chứng nhận kết hôn của cha mẹ';
  await check('desk requests a supplement with a note', async () => {
    await act(desk, 'Yêu cầu bổ sung', { note: NOTE }, 'Yêu cầu bổ sung, hoàn thiện');
    await desk.getByTestId('timeline').getByText(NOTE).waitFor();
  });
  await check('citizen sees it in notifications (unread badge) and supplements; back to "Đang giải quyết"', async () => {
    await citizen.goto(url('/'), { waitUntil: 'networkidle' });
    const badge = citizen.locator('header').getByTestId('unread-badge');
    await badge.waitFor();
    const unread = (await badge.locator('[aria-hidden="true"]').innerText()).trim();
    await citizen.locator('nav').getByRole('link', { name: /Thông báo/ }).click();
    await citizen.waitForURL(/\/me\/notifications$/);
    const item = citizen.getByTestId('inbox').locator('li').filter({ hasText: NOTE });
    await item.waitFor();
    assert((await item.innerText()).includes('Yêu cầu bổ sung'), `notification: ${await item.innerText()}`);
    await shot(citizen, '07-notifications');
    await item.getByRole('link', { name: `Xem hồ sơ ${code}` }).click();
    await citizen.waitForURL(new RegExp(`/dossiers/${code}$`));
    await waitStatus(citizen, 'Yêu cầu bổ sung, hoàn thiện');
    assert((await citizen.getByTestId('supplement-request').innerText()).includes(NOTE), 'request note not shown');
    await shot(citizen, '08-supplement-requested');
    await act(citizen, 'Bổ sung hồ sơ', { note: 'Đã bổ sung bản sao giấy chứng nhận kết hôn' }, 'Đang giải quyết');
    await shot(citizen, '09-supplemented');
    return `unread badge ${unread}`;
  });

  // 6. The desk's page is now stale: acting on it gives 409, and the page offers a reload
  await check('a stale version (409) is reported with a reload button', async () => {
    await waitStatus(desk, 'Yêu cầu bổ sung, hoàn thiện'); // still the old copy
    await desk.getByTestId('actions').getByRole('button', { name: 'Bổ sung hồ sơ', exact: true }).click();
    await desk.locator('form.action-form').getByRole('button', { name: 'Xác nhận: Bổ sung hồ sơ' }).click();
    const conflict = desk.getByTestId('conflict');
    await conflict.waitFor();
    assert((await conflict.innerText()).includes('vừa được người khác cập nhật'), await conflict.innerText());
    await shot(desk, '10-conflict');
    await conflict.getByRole('button', { name: 'Tải lại hồ sơ' }).click();
    await waitStatus(desk, 'Đang giải quyết');
  });

  // 7. Specialist proposes
  await check('specialist finds it under "Hồ sơ giao cho tôi" and proposes', async () => {
    await login(specialist, 'specialist');
    await openFromQueue(specialist, code, '?scope=mine');
    await waitStatus(specialist, 'Đang giải quyết');
    await act(specialist, 'Trình phê duyệt', { note: 'Hồ sơ đủ điều kiện' }, 'Chờ phê duyệt');
    await shot(specialist, '11-specialist-proposed');
  });

  // 8. Leader approves
  await check('leader approves', async () => {
    await login(leader, 'leader');
    await openFromQueue(leader, code, '?status=awaiting_approval');
    await act(leader, 'Phê duyệt', {}, 'Đã phê duyệt');
    // The answers read with the form's own Vietnamese titles, nested fields flattened.
    const answers = await leader.locator('dl.kv').innerText();
    if (!answers.includes('Người được khai sinh › Họ, chữ đệm và tên')) {
      throw new Error(`the form answers are not labelled by the schema: ${answers.slice(0, 200)}`);
    }
    await shot(leader, '12-leader-approved');
  });

  // 9. Specialist issues the result
  await check('specialist issues the result', async () => {
    await specialist.reload({ waitUntil: 'networkidle' });
    await waitStatus(specialist, 'Đã phê duyệt');
    await act(specialist, 'Ban hành kết quả', {}, 'Đã có kết quả, chờ trả');
  });

  // 10. Desk returns it (found with the applicant-name filter, without diacritics)
  await check('desk filters the queue by applicant and returns the result', async () => {
    await desk.goto(url('/queue'), { waitUntil: 'networkidle' });
    await desk.getByLabel('Tên người nộp').fill('nguyen van an');
    await desk.getByRole('button', { name: 'Lọc', exact: true }).click();
    await desk.waitForURL(/applicant=nguyen/);
    const row = await findRow(desk, code);
    assert((await row.innerText()).includes('Đã có kết quả, chờ trả'), `row: ${await row.innerText()}`);
    await shot(desk, '13-queue-filtered');
    await row.getByRole('link', { name: code }).click();
    await act(desk, 'Trả kết quả', {}, 'Đã trả kết quả');
    await shot(desk, '14-desk-returned');
  });

  // 11. Citizen sees it returned and rates 5
  await check('citizen sees "Đã trả kết quả" in "Hồ sơ của tôi" and rates 5 stars', async () => {
    await citizen.locator('nav').getByRole('link', { name: 'Hồ sơ của tôi' }).click();
    await citizen.waitForURL(/\/me\/dossiers$/);
    const row = citizen.locator(`tr[data-code="${code}"]`);
    await row.waitFor();
    await row.filter({ hasText: 'Đã trả kết quả' }).waitFor();
    await shot(citizen, '15-my-dossiers');
    await row.getByRole('link', { name: code }).click();
    await waitStatus(citizen, 'Đã trả kết quả');
    const steps = await citizen.getByTestId('timeline').locator('tbody tr').count();
    assert(steps >= 9, `timeline has ${steps} steps`);
    // The radios are visually hidden behind star glyphs: click the fifth star like a user would,
    // and check that the radio with the accessible name "5 sao: Rất hài lòng" got selected.
    await citizen.locator('label.star').nth(4).click();
    assert(await citizen.getByLabel('5 sao: Rất hài lòng').isChecked(), 'the 5-star radio is not checked');
    assert((await citizen.locator('label.star.on').count()) === 5, 'five stars are not lit');
    await citizen.getByLabel('Góp ý (không bắt buộc)').fill('Cán bộ hướng dẫn tận tình, trả kết quả sớm.');
    await shot(citizen, '16-rating');
    await citizen.getByRole('button', { name: 'Gửi đánh giá' }).click();
    const rated = citizen.getByTestId('rated');
    await rated.waitFor();
    assert((await rated.innerText()).includes('5/5'), await rated.innerText());
    await shot(citizen, '17-rated');
    return `${steps} timeline steps`;
  });

  // 12. Public status lookup, no login
  await check('public lookup with the last 4 digits of the ID shows the status (wrong digits do not)', async () => {
    await visitor.goto(url('/'), { waitUntil: 'networkidle' });
    await visitor.locator('nav').getByRole('link', { name: 'Tra cứu hồ sơ' }).click();
    await visitor.waitForURL(/\/tra-cuu-ho-so$/);
    await visitor.getByLabel('Mã hồ sơ').fill(code);
    await visitor.getByLabel('4 số cuối số định danh hoặc số điện thoại').fill('9999');
    await visitor.getByRole('button', { name: 'Tra cứu', exact: true }).click();
    await visitor.locator('#track-error').filter({ hasText: 'Không tìm thấy hồ sơ' }).waitFor();
    await visitor.getByLabel('4 số cuối số định danh hoặc số điện thoại').fill(CITIZEN_ID_LAST4);
    await visitor.getByRole('button', { name: 'Tra cứu', exact: true }).click();
    const status = visitor.getByTestId('track-status');
    await status.filter({ hasText: 'Đã trả kết quả' }).waitFor();
    assert((await visitor.getByTestId('track-result').innerText()).includes('đăng ký khai sinh'), 'procedure');
    assert(await visitor.evaluate(() => !sessionStorage.getItem('thanglong.token')), 'visitor is logged in?');
    await shot(visitor, '18-public-track');
  });

  // 13. Desk reception of an in-person submission: received at once, with a due date
  await check('desk records an in-person submission: receipt with received time and due date', async () => {
    await desk.locator('nav').getByRole('link', { name: 'Tiếp nhận hồ sơ' }).click();
    await desk.waitForURL(/\/desk\/new$/);
    await desk.getByLabel('Tìm thủ tục (tên hoặc mã)').fill('dang ky khai sinh');
    await desk.getByRole('button', { name: new RegExp(`Chọn thủ tục .*\\(${PROCEDURE.replace(/\./g, '\\.')}\\)`) }).click();
    await desk.getByTestId('desk-procedure').filter({ hasText: PROCEDURE }).waitFor();
    // The commune defaults to the desk's own ward.
    await desk.waitForFunction(() => document.querySelector('#df-unit')?.value === '00004');
    const applicant = desk.getByRole('group', { name: 'Thông tin người nộp hồ sơ' });
    await applicant.getByLabel('Họ và tên').fill('Lê Thị Hoa');
    await applicant.getByLabel('Số định danh cá nhân').fill('001190000111');
    await applicant.getByLabel('Số điện thoại').fill('0987654321');
    await fillBirthForm(desk, {
      relationship: 'Mẹ',
      child: 'Phạm Gia Bảo',
      dob: '2026-10-20',
      sex: 'Nữ',
      place: 'Trạm y tế phường Ba Đình',
      mother: 'Lê Thị Hoa',
    });
    await desk.getByTestId('components').getByLabel('Tờ khai đăng ký khai sinh').check();
    await shot(desk, '19-desk-new');
    await desk.getByRole('button', { name: 'Tiếp nhận hồ sơ', exact: true }).click();
    await desk.waitForURL(/\/receipt$/);
    const deskCode = (await desk.getByTestId('receipt-code').innerText()).trim();
    const received = await desk.getByTestId('receipt-received').innerText();
    const due = await desk.getByTestId('receipt-due').innerText();
    assert(/\d{2}:\d{2} \d{2}\/\d{2}\/\d{4}/.test(received), `received "${received}"`);
    assert(/\d{2}:\d{2} \d{2}\/\d{2}\/\d{4}/.test(due), `due "${due}"`);
    assert((await desk.getByTestId('receipt-pending-due').count()) === 0, 'pending-due note on a desk receipt');
    await shot(desk, '20-desk-receipt');
    return `${deskCode}, due ${due.trim()}`;
  });

  // 14. Phone-sized screens
  await check('phone viewport (375x812): dossier detail, receipt and queue fit without horizontal scroll', async () => {
    const widths = [];
    for (const [page, path, name] of [
      [citizen, `/dossiers/${code}`, '21-phone-dossier'],
      [citizen, `/dossiers/${code}/receipt`, '22-phone-receipt'],
      [desk, '/queue?status=returned', '23-phone-queue'],
    ]) {
      await page.setViewportSize({ width: 375, height: 812 });
      await page.goto(url(path), { waitUntil: 'networkidle' });
      await page.locator('h1').first().waitFor();
      if (path.startsWith('/queue')) await findRow(page, code);
      else if (path.endsWith('/receipt')) await page.getByTestId('receipt-code').waitFor();
      else await page.getByTestId('timeline').waitFor();
      const w = await page.evaluate(() => document.documentElement.scrollWidth);
      await shot(page, name);
      assert(w <= 375, `${path}: scrollWidth ${w} > 375`);
      widths.push(w);
    }
    return `scrollWidth ${widths.join(', ')}`;
  });

  // 15. English
  await check('English labels on the dossier page', async () => {
    await citizen.goto(url(`/dossiers/${code}`), { waitUntil: 'networkidle' });
    await citizen.locator('header').getByRole('button', { name: /English/ }).click();
    await waitStatus(citizen, 'Result returned');
    await citizen.getByRole('heading', { name: 'Processing history' }).waitFor();
    await shot(citizen, '24-english');
    await citizen.locator('header').getByRole('button', { name: /Tiếng Việt/ }).click();
    await waitStatus(citizen, 'Đã trả kết quả');
  });

  // 16. Anonymous visitors are sent to the login page and come back to the form
  await check('anonymous "log in to apply" returns to the online form after login', async () => {
    await visitor.goto(url(`/procedures/${PROCEDURE}`), { waitUntil: 'networkidle' });
    await visitor.getByRole('link', { name: 'Đăng nhập để nộp hồ sơ trực tuyến' }).click();
    await visitor.waitForURL(/\/login\?next=/);
    await visitor.getByLabel('Tên đăng nhập').fill('citizen');
    await visitor.getByLabel('Mật khẩu').fill(PASSWORD);
    await visitor.locator('main').getByRole('button', { name: 'Đăng nhập' }).click();
    await visitor.waitForURL(/\/dossiers\/new\?procedure=1\.001193$/);
    await visitor.getByTestId('apply-procedure').filter({ hasText: PROCEDURE }).waitFor();
  });

  // 17. Console
  await check('no console errors (incl. CSP violations)', async () => {
    assert(consoleErrors.length === 0, `${consoleErrors.length}: ${consoleErrors.slice(0, 3).join(' | ')}`);
  });
} catch (e) {
  failSetup(e);
} finally {
  await browser?.close().catch(() => {});
}

finish();
