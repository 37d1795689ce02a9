#!/usr/bin/env node
// DEVELOPMENT ONLY: a tiny stand-in for the ThangLong C++ server, so the web front end can be
// built and tried before the backend is ready. It serves web/dist (SPA fallback, same CSP as the
// real server) and answers /api/v1 with a few fixed, illustrative records — not real data.
// The real end-to-end test (tests/e2e/) must run against the real server, never this file.
//
//   node dev/mock-server.mjs [port]        (default 8090; PORT env also works)
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const PORT = Number(process.argv[2] ?? process.env.PORT ?? 8090);
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

const fold = (s) =>
  String(s).normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').toLowerCase().trim();

// ---------------------------------------------------------------- procedures
const wd = (d) => ({ duration: d, unit: d === null ? null : 'working_day' });
const procedures = [
  {
    code: '1.001193', name: 'Đăng ký khai sinh', sector: 'Hộ tịch', levels: ['commune'],
    applicants: ['citizen'], competent_agency: 'Ủy ban nhân dân cấp xã',
    decision: 'Quyết định số 1872/QĐ-BTP ngày 04/7/2025 của Bộ Tư pháp',
    processing: [{ channel: 'in_person', ...wd(1) }, { channel: 'online', ...wd(1) }, { channel: 'postal', ...wd(1) }],
    fees_vnd: [0], result: 'Giấy khai sinh (bản chính)',
  },
  {
    code: '2.000528', name: 'Đăng ký khai sinh có yếu tố nước ngoài', sector: 'Hộ tịch', levels: ['commune'],
    applicants: ['citizen'], competent_agency: 'Ủy ban nhân dân cấp xã',
    decision: 'Quyết định số 1872/QĐ-BTP ngày 04/7/2025 của Bộ Tư pháp',
    processing: [{ channel: 'in_person', ...wd(3) }, { channel: 'online', ...wd(3) }],
    fees_vnd: [100000], result: 'Giấy khai sinh (bản chính)',
  },
  {
    code: '1.000894', name: 'Đăng ký kết hôn', sector: 'Hộ tịch', levels: ['commune'],
    applicants: ['citizen'], competent_agency: 'Ủy ban nhân dân cấp xã',
    decision: 'Quyết định số 1872/QĐ-BTP ngày 04/7/2025 của Bộ Tư pháp',
    processing: [{ channel: 'in_person', ...wd(1) }, { channel: 'online', ...wd(1) }],
    fees_vnd: [0], result: 'Giấy chứng nhận kết hôn',
  },
  {
    code: '1.000656', name: 'Đăng ký khai tử', sector: 'Hộ tịch', levels: ['commune'],
    applicants: ['citizen'], competent_agency: 'Ủy ban nhân dân cấp xã',
    decision: 'Quyết định số 1872/QĐ-BTP ngày 04/7/2025 của Bộ Tư pháp',
    processing: [{ channel: 'in_person', ...wd(1) }, { channel: 'online', ...wd(1) }],
    fees_vnd: [0], result: 'Trích lục khai tử (bản chính)',
  },
  {
    code: '1.009994', name: 'Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ', sector: 'Hoạt động xây dựng',
    levels: ['commune'], applicants: ['citizen', 'organisation'], competent_agency: 'Ủy ban nhân dân cấp xã',
    decision: 'Quyết định số 1012/QĐ-BXD ngày 30/6/2025 của Bộ Xây dựng',
    processing: [{ channel: 'in_person', duration: 15, unit: 'day' }, { channel: 'online', duration: 15, unit: 'day' }],
    fees_vnd: [75000], result: 'Giấy phép xây dựng',
  },
  {
    code: '2.000488', name: 'Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam',
    sector: 'Lý lịch tư pháp', levels: ['province'], applicants: ['citizen'],
    competent_agency: 'Sở Tư pháp thành phố Hà Nội',
    decision: 'Quyết định số 2049/QĐ-BTP ngày 21/8/2025 của Bộ Tư pháp',
    processing: [{ channel: 'in_person', ...wd(10) }, { channel: 'online', ...wd(10) }, { channel: 'postal', ...wd(10) }],
    fees_vnd: [200000, 100000], result: 'Phiếu lý lịch tư pháp',
  },
  {
    code: '2.000720', name: 'Đăng ký thành lập hộ kinh doanh', sector: 'Thành lập và hoạt động của hộ kinh doanh',
    levels: ['commune'], applicants: ['citizen'], competent_agency: 'Ủy ban nhân dân cấp xã',
    decision: 'Quyết định số 1555/QĐ-BTC ngày 12/6/2025 của Bộ Tài chính',
    processing: [{ channel: 'in_person', ...wd(3) }, { channel: 'online', ...wd(3) }],
    fees_vnd: [100000], result: 'Giấy chứng nhận đăng ký hộ kinh doanh',
  },
  {
    code: '1.002804', name: 'Cấp lại giấy phép lái xe', sector: 'Đường bộ', levels: ['province'],
    applicants: ['citizen'], competent_agency: 'Sở Xây dựng thành phố Hà Nội',
    decision: 'Quyết định số 1234/QĐ-BXD ngày 01/7/2025 của Bộ Xây dựng',
    processing: [{ channel: 'in_person', ...wd(10) }, { channel: 'online', ...wd(10) }],
    fees_vnd: [135000], result: 'Giấy phép lái xe',
  },
];
// Filler so that "Xem thêm" (keyset pagination) can be exercised with limit=20.
for (let i = 1; i <= 22; i++) {
  const n = String(i).padStart(2, '0');
  procedures.push({
    code: `9.9000${n}`, name: `Thủ tục mẫu số ${i} (dữ liệu thử)`, sector: 'Thử nghiệm', levels: ['province', 'commune'],
    applicants: ['citizen', 'organisation'], competent_agency: 'Văn phòng Ủy ban nhân dân thành phố',
    decision: 'Dữ liệu thử cho môi trường phát triển',
    processing: [{ channel: 'online', duration: i % 4 === 0 ? null : i, unit: i % 4 === 0 ? null : 'working_day' }],
    fees_vnd: [], result: 'Văn bản trả lời',
  });
}
for (const p of procedures) {
  p.source_url = `https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=${p.code}`;
  p.version = 1;
  p.effective_from = '2025-07-01';
}
procedures.sort((a, b) => a.code.localeCompare(b.code));
const summary = ({ code, name, sector, levels, competent_agency, processing, fees_vnd }) =>
  ({ code, name, sector, levels, competent_agency, processing, fees_vnd });

// ---------------------------------------------------------------- admin units
const P = (code, name, kind = 'tỉnh', predecessors = []) =>
  ({ code, name, kind, level: 'province', parent_code: null, predecessors });
const provinces = [
  P('01', 'Hà Nội', 'thành phố'), P('04', 'Cao Bằng'),
  P('08', 'Tuyên Quang', 'tỉnh', [{ code: '02', name: 'Tỉnh Hà Giang', type: 'full' }, { code: '08', name: 'Tỉnh Tuyên Quang', type: 'full' }]),
  P('11', 'Điện Biên'), P('12', 'Lai Châu'), P('14', 'Sơn La'), P('15', 'Lào Cai'), P('19', 'Thái Nguyên'),
  P('20', 'Lạng Sơn'), P('22', 'Quảng Ninh'), P('24', 'Bắc Ninh'),
  P('25', 'Phú Thọ', 'tỉnh', [
    { code: '17', name: 'Tỉnh Hòa Bình', type: 'full' }, { code: '25', name: 'Tỉnh Phú Thọ', type: 'full' },
    { code: '26', name: 'Tỉnh Vĩnh Phúc', type: 'full' }]),
  P('31', 'Hải Phòng', 'thành phố'), P('33', 'Hưng Yên'), P('37', 'Ninh Bình'), P('38', 'Thanh Hóa'),
  P('40', 'Nghệ An'), P('42', 'Hà Tĩnh'), P('44', 'Quảng Trị'), P('46', 'Huế', 'thành phố'),
  P('48', 'Đà Nẵng', 'thành phố'), P('51', 'Quảng Ngãi'), P('52', 'Gia Lai'), P('56', 'Khánh Hòa'),
  P('66', 'Đắk Lắk'), P('68', 'Lâm Đồng'), P('75', 'Đồng Nai'), P('79', 'Hồ Chí Minh', 'thành phố'),
  P('80', 'Tây Ninh'), P('82', 'Đồng Tháp'), P('86', 'Vĩnh Long'), P('91', 'An Giang'),
  P('92', 'Cần Thơ', 'thành phố'), P('96', 'Cà Mau'),
];
const C = (code, name, kind, preds = []) => ({
  code, name, kind, level: 'commune', parent_code: '01',
  predecessors: preds.map(([n, type]) => ({ code: '', name: n, type })),
});
const communes = [
  C('00004', 'Phường Ba Đình', 'phường', [['Phường Trúc Bạch', 'full'], ['Phường Quán Thánh', 'full'],
    ['Phường Cửa Nam', 'partial'], ['Phường Điện Biên', 'partial'], ['Phường Đội Cấn', 'partial'], ['Phường Kim Mã', 'partial']]),
  C('00008', 'Phường Ngọc Hà', 'phường', [['Phường Vĩnh Phúc', 'full'], ['Phường Liễu Giai', 'partial'], ['Phường Ngọc Hà', 'partial']]),
  C('00025', 'Phường Giảng Võ', 'phường', [['Phường Giảng Võ', 'partial'], ['Phường Ngọc Khánh', 'partial'], ['Phường Thành Công', 'partial']]),
  C('00070', 'Phường Hoàn Kiếm', 'phường', [['Phường Hàng Bạc', 'full'], ['Phường Hàng Đào', 'full'], ['Phường Cửa Nam', 'partial']]),
  C('00082', 'Phường Cửa Nam', 'phường', [['Phường Cửa Nam', 'partial'], ['Phường Hàng Bông', 'full'], ['Phường Trần Hưng Đạo', 'partial']]),
  C('00091', 'Phường Hồng Hà', 'phường', [['Phường Phúc Tân', 'full'], ['Phường Chương Dương', 'full']]),
  C('00103', 'Phường Tây Hồ', 'phường', [['Phường Quảng An', 'full'], ['Phường Nhật Tân', 'partial']]),
  C('00166', 'Phường Cầu Giấy', 'phường', [['Phường Quan Hoa', 'full'], ['Phường Nghĩa Đô', 'partial']]),
  C('00229', 'Phường Đống Đa', 'phường', [['Phường Thịnh Quang', 'full'], ['Phường Quang Trung', 'partial']]),
  C('00256', 'Phường Hai Bà Trưng', 'phường', [['Phường Bạch Đằng', 'partial'], ['Phường Thanh Lương', 'partial']]),
  C('08980', 'Xã Sóc Sơn', 'xã', [['Thị trấn Sóc Sơn', 'full'], ['Xã Phù Lỗ', 'partial']]),
  C('09022', 'Xã Đông Anh', 'xã', [['Thị trấn Đông Anh', 'full'], ['Xã Uy Nỗ', 'partial']]),
  C('10183', 'Xã Bát Tràng', 'xã', [['Xã Bát Tràng', 'full'], ['Xã Kim Lan', 'full'], ['Xã Văn Đức', 'full']]),
  C('09619', 'Xã Ba Vì', 'xã', [['Xã Ba Vì', 'full'], ['Xã Khánh Thượng', 'full'], ['Xã Minh Quang', 'full']]),
  C('10003', 'Xã Thạch Thất', 'xã', [['Thị trấn Liên Quan', 'full'], ['Xã Cẩm Yên', 'partial']]),
  C('10279', 'Xã Phú Xuyên', 'xã', [['Thị trấn Phú Xuyên', 'full'], ['Xã Phúc Tiến', 'partial']]),
];
const allUnits = [...provinces, ...communes];
const plain = ({ predecessors, ...u }) => u;

function resolve(name) {
  const q = fold(name).replace(/^(phuong|xa|thi tran|tinh|thanh pho)\s+/, '');
  const bare = (s) => fold(s).replace(/^(phuong|xa|thi tran|tinh|thanh pho)\s+/, '');
  const matches = [];
  for (const u of allUnits) {
    if (bare(u.name) === q) matches.push({ unit: plain(u), via: null });
    for (const p of u.predecessors) if (bare(p.name) === q) matches.push({ unit: plain(u), via: p });
  }
  return matches;
}

// ---------------------------------------------------------------- users and sessions
const users = new Map(
  [
    ['admin', 'Quản trị viên Thành phố', 'city_admin', null],
    ['citizen', 'Nguyễn Văn An', 'citizen', null],
    ['desk', 'Trần Thị Bình', 'desk_officer', 'UBND-BADINH'],
    ['specialist', 'Lê Văn Cường', 'specialist', 'UBND-BADINH'],
    ['leader', 'Phạm Thị Dung', 'leader', 'UBND-BADINH'],
    ['agencyadmin', 'Hoàng Văn Em', 'agency_admin', 'UBND-BADINH'],
    ['operator', 'Vũ Thị Giang', 'operator', null],
    ['org', 'Công ty TNHH Hồ Gươm', 'organisation', null],
  ].map(([username, full_name, role, agency_code]) => [
    username,
    { username, full_name, role, agency_code, disabled: false, password: 'ThangLong@2025' },
  ]),
);
const sessions = new Map(); // token -> { username, expires }
const failures = new Map(); // username -> { count, until }
const ROLES = ['citizen', 'organisation', 'desk_officer', 'specialist', 'leader', 'agency_admin', 'city_admin', 'operator'];
const publicUser = ({ username, full_name, role, agency_code }) => ({ username, full_name, role, agency_code });

// ---------------------------------------------------------------- HTTP plumbing
const problem = (res, status, title, detail, field) => {
  const body = { type: 'about:blank', title, status, detail, ...(field ? { field } : {}) };
  send(res, status, body, 'application/problem+json');
};
function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'Content-Type': `${type}; charset=utf-8`, 'Cache-Control': 'no-store' });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}
async function readJson(req) {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  try {
    return JSON.parse(raw || '{}');
  } catch {
    return null;
  }
}
function currentUser(req) {
  const m = /^Bearer\s+(\S+)$/.exec(req.headers.authorization ?? '');
  const s = m && sessions.get(m[1]);
  if (!s || s.expires < Date.now()) return null;
  const u = users.get(s.username);
  return u && !u.disabled ? u : null;
}

async function api(req, res, url) {
  const path = url.pathname.replace(/^\/api\/v1/, '');
  const method = req.method;
  const seg = path.split('/').filter(Boolean).map(decodeURIComponent);

  if (method === 'POST' && path === '/auth/login') {
    const body = await readJson(req);
    if (!body || typeof body.username !== 'string' || typeof body.password !== 'string')
      return problem(res, 400, 'Bad Request', 'Thiếu tên đăng nhập hoặc mật khẩu.');
    const f = failures.get(body.username);
    if (f && f.count >= 5 && f.until > Date.now())
      return problem(res, 429, 'Too Many Requests', 'Bạn đã đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 1 phút.');
    const u = users.get(body.username);
    if (!u || u.disabled || u.password !== body.password) {
      const next = { count: (f?.count ?? 0) + 1, until: Date.now() + 60_000 };
      failures.set(body.username, next);
      return problem(res, 401, 'Unauthorized', 'Tên đăng nhập hoặc mật khẩu không đúng.');
    }
    failures.delete(body.username);
    const token = randomBytes(24).toString('base64url');
    const expires = Date.now() + 8 * 3600_000;
    sessions.set(token, { username: u.username, expires });
    return send(res, 200, { token, expires_at: new Date(expires).toISOString(), user: publicUser(u) });
  }
  if (method === 'POST' && path === '/auth/logout') {
    const m = /^Bearer\s+(\S+)$/.exec(req.headers.authorization ?? '');
    if (m) sessions.delete(m[1]);
    res.writeHead(204).end();
    return undefined;
  }
  if (method === 'GET' && path === '/me') {
    const u = currentUser(req);
    return u ? send(res, 200, publicUser(u)) : problem(res, 401, 'Unauthorized', 'Chưa đăng nhập.');
  }

  if (method === 'GET' && path === '/procedures') {
    const q = fold(url.searchParams.get('q') ?? '');
    const sector = url.searchParams.get('sector') ?? '';
    const level = url.searchParams.get('level') ?? '';
    const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 20) || 20, 1), 100);
    const cursor = url.searchParams.get('cursor');
    const after = cursor ? Buffer.from(cursor, 'base64url').toString() : '';
    const words = q.split(/\s+/).filter(Boolean);
    const all = procedures.filter(
      (p) =>
        (!sector || p.sector === sector) &&
        (!level || p.levels.includes(level)) &&
        words.every((w) => fold(`${p.name} ${p.code}`).includes(w)),
    );
    const rest = after ? all.filter((p) => p.code > after) : all;
    const page = rest.slice(0, limit);
    const next = rest.length > limit ? Buffer.from(page[page.length - 1].code).toString('base64url') : null;
    return send(res, 200, { items: page.map(summary), next_cursor: next, total: all.length });
  }
  if (method === 'GET' && path === '/procedures/sectors') {
    const counts = new Map();
    for (const p of procedures) counts.set(p.sector, (counts.get(p.sector) ?? 0) + 1);
    const items = [...counts].map(([name, count]) => ({ name, count })).sort((a, b) => a.name.localeCompare(b.name, 'vi'));
    return send(res, 200, { items });
  }
  if (method === 'GET' && seg[0] === 'procedures' && seg.length === 2) {
    const p = procedures.find((x) => x.code === seg[1]);
    return p ? send(res, 200, p) : problem(res, 404, 'Not Found', `Không có thủ tục mã ${seg[1]}.`);
  }

  if (method === 'GET' && path === '/admin-units') {
    const parent = url.searchParams.get('parent');
    const items = parent ? communes.filter((c) => c.parent_code === parent) : provinces;
    return send(res, 200, { items: items.map(plain) });
  }
  if (method === 'GET' && path === '/admin-units/resolve') {
    const name = url.searchParams.get('name') ?? '';
    if (!name.trim()) return problem(res, 400, 'Bad Request', 'Thiếu tham số name.', 'name');
    return send(res, 200, { query: name, matches: resolve(name) });
  }
  if (method === 'GET' && seg[0] === 'admin-units' && seg.length === 2) {
    const u = allUnits.find((x) => x.code === seg[1]);
    return u ? send(res, 200, u) : problem(res, 404, 'Not Found', `Không có đơn vị mã ${seg[1]}.`);
  }

  if (seg[0] === 'users') {
    const me = currentUser(req);
    if (!me) return problem(res, 401, 'Unauthorized', 'Chưa đăng nhập.');
    if (me.role !== 'city_admin' && me.role !== 'agency_admin')
      return problem(res, 403, 'Forbidden', 'Bạn không có quyền quản lý người dùng.');
    if (method === 'GET' && seg.length === 1) {
      const items = [...users.values()]
        .filter((u) => me.role === 'city_admin' || u.agency_code === me.agency_code)
        .map((u) => ({ ...publicUser(u), disabled: u.disabled }));
      return send(res, 200, { items });
    }
    if (method === 'POST' && seg.length === 1) {
      const b = await readJson(req);
      if (!b) return problem(res, 400, 'Bad Request', 'JSON không hợp lệ.');
      if (!/^[a-z0-9._-]{3,32}$/.test(b.username ?? ''))
        return problem(res, 422, 'Unprocessable Content', 'Tên đăng nhập gồm 3–32 ký tự a-z, 0-9, dấu chấm, gạch.', 'username');
      if (!String(b.full_name ?? '').trim())
        return problem(res, 422, 'Unprocessable Content', 'Vui lòng nhập họ và tên.', 'full_name');
      if (!ROLES.includes(b.role)) return problem(res, 422, 'Unprocessable Content', 'Vai trò không hợp lệ.', 'role');
      if (String(b.password ?? '').length < 10)
        return problem(res, 422, 'Unprocessable Content', 'Mật khẩu phải có ít nhất 10 ký tự.', 'password');
      if (users.has(b.username)) return problem(res, 409, 'Conflict', `Tài khoản ${b.username} đã tồn tại.`, 'username');
      const u = {
        username: b.username, full_name: b.full_name.trim(), role: b.role,
        agency_code: b.agency_code || null, disabled: false, password: b.password,
      };
      users.set(u.username, u);
      return send(res, 201, { ...publicUser(u), disabled: false });
    }
    if (method === 'POST' && seg.length === 3 && seg[2] === 'disable') {
      const u = users.get(seg[1]);
      if (!u) return problem(res, 404, 'Not Found', `Không có tài khoản ${seg[1]}.`);
      if (u.username === me.username) return problem(res, 409, 'Conflict', 'Không thể tự vô hiệu hoá tài khoản của mình.');
      u.disabled = true;
      return send(res, 200, { ...publicUser(u), disabled: true });
    }
  }
  return problem(res, 404, 'Not Found', `Không có tài nguyên ${path}.`);
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json',
};

async function serveStatic(req, res, url) {
  let rel = normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '');
  let file = join(DIST, rel);
  if (!file.startsWith(DIST) || rel.split(sep).includes('..')) file = join(DIST, 'index.html');
  try {
    if (!(await stat(file)).isFile()) throw new Error('dir');
  } catch {
    file = join(DIST, 'index.html'); // SPA fallback
  }
  try {
    const body = await readFile(file);
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Cache-Control': file.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch {
    res.writeHead(500, { 'Content-Type': 'text/plain' }).end('dist/ missing: run `npm run build` first\n');
  }
}

const server = createServer(async (req, res) => {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'same-origin');
  const url = new URL(req.url ?? '/', 'http://localhost');
  try {
    if (url.pathname.startsWith('/api/')) await api(req, res, url);
    else await serveStatic(req, res, url);
  } catch (e) {
    console.error(e);
    if (!res.headersSent) problem(res, 500, 'Internal Server Error', 'Lỗi máy chủ giả lập.');
  }
});
server.listen(PORT, '127.0.0.1', () => console.log(`mock server (dev only) on http://127.0.0.1:${PORT}`));
