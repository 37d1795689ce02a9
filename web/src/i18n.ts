import { createStore, useStore } from './store';

export type Lang = 'vi' | 'en';

// Vietnamese is the primary language; every key must exist in both dictionaries
// (the `en` object is typed against `vi`). Strings are NFC; `{name}` is a parameter.
const vi = {
  'app.name': 'ThangLong',
  'app.tagline': 'Cổng dịch vụ công Hà Nội',
  'app.skip': 'Bỏ qua, đến nội dung chính',
  'app.footer': 'ThangLong — nền tảng mở cho chính quyền số và đô thị thông minh Hà Nội.',
  'app.footerData': 'Dữ liệu thủ tục theo Cơ sở dữ liệu quốc gia về thủ tục hành chính; đơn vị hành chính theo sắp xếp năm 2025.',
  'lang.switch': 'English',
  'lang.switchLabel': 'Switch to English',

  'nav.main': 'Điều hướng chính',
  'nav.home': 'Trang chủ',
  'nav.procedures': 'Thủ tục hành chính',
  'nav.units': 'Đơn vị hành chính',
  'nav.users': 'Quản lý người dùng',
  'nav.login': 'Đăng nhập',
  'nav.logout': 'Đăng xuất',
  'nav.greeting': 'Xin chào, {name} ({role})',

  'common.loading': 'Đang tải…',
  'common.error': 'Đã có lỗi xảy ra.',
  'common.networkError': 'Không kết nối được tới máy chủ. Vui lòng thử lại.',
  'common.retry': 'Thử lại',
  'common.back': 'Quay lại',
  'common.none': 'Không có',
  'common.unknown': 'Chưa có thông tin',
  'common.search': 'Tìm kiếm',
  'common.all': 'Tất cả',
  'common.filter': 'Lọc theo tên',

  'home.title': 'Cổng dịch vụ công Hà Nội',
  'home.lead': 'ThangLong là nền tảng mở phục vụ chính quyền số và đô thị thông minh của Thủ đô: tra cứu thủ tục hành chính, tìm hiểu đơn vị hành chính sau sắp xếp năm 2025 và (sắp tới) nộp, theo dõi hồ sơ trực tuyến.',
  'home.quick': 'Truy cập nhanh',
  'home.procedures': 'Tra cứu thủ tục',
  'home.proceduresDesc': 'Tìm thủ tục theo tên, lĩnh vực, cấp thực hiện; xem thời hạn, phí, lệ phí và căn cứ pháp lý.',
  'home.units': 'Đơn vị hành chính',
  'home.unitsDesc': '34 tỉnh, thành phố và 126 phường, xã của Hà Nội; tra cứu tên cũ trước năm 2025.',
  'home.login': 'Đăng nhập',
  'home.loginDesc': 'Dành cho công dân, tổ chức và cán bộ, công chức.',
  'home.loggedIn': 'Xin chào, {name} ({role})',
  'home.admin': 'Quản lý người dùng',
  'home.adminDesc': 'Tạo và vô hiệu hoá tài khoản cán bộ.',

  'login.title': 'Đăng nhập',
  'login.username': 'Tên đăng nhập',
  'login.password': 'Mật khẩu',
  'login.submit': 'Đăng nhập',
  'login.submitting': 'Đang đăng nhập…',
  'login.required': 'Vui lòng nhập tên đăng nhập và mật khẩu.',
  'login.failed': 'Tên đăng nhập hoặc mật khẩu không đúng.',
  'login.rateLimited': 'Bạn đã thử quá nhiều lần. Vui lòng thử lại sau.',
  'login.already': 'Bạn đang đăng nhập với tài khoản {name}.',

  'proc.title': 'Tra cứu thủ tục hành chính',
  'proc.searchLabel': 'Tên hoặc mã thủ tục',
  'proc.searchPlaceholder': 'Ví dụ: đăng ký khai sinh',
  'proc.searchHint': 'Có thể gõ không dấu.',
  'proc.sector': 'Lĩnh vực',
  'proc.level': 'Cấp thực hiện',
  'proc.results': 'Kết quả tìm kiếm',
  'proc.count': 'Tìm thấy {n} thủ tục',
  'proc.shown': 'Đang hiển thị {n} thủ tục',
  'proc.shownOf': 'Đang hiển thị {shown}/{n} thủ tục',
  'proc.none': 'Không tìm thấy thủ tục phù hợp.',
  'proc.more': 'Xem thêm',
  'proc.loadingMore': 'Đang tải thêm…',
  'proc.code': 'Mã thủ tục',
  'proc.name': 'Tên thủ tục',
  'proc.levels': 'Cấp thực hiện',
  'proc.time': 'Thời hạn giải quyết',
  'proc.applicants': 'Đối tượng thực hiện',
  'proc.agency': 'Cơ quan thực hiện',
  'proc.decision': 'Quyết định công bố',
  'proc.fees': 'Phí, lệ phí',
  'proc.feeFree': 'Miễn phí',
  'proc.result': 'Kết quả thực hiện',
  'proc.source': 'Nguồn',
  'proc.sourceLink': 'Xem trên Cổng dịch vụ công quốc gia',
  'proc.version': 'Phiên bản',
  'proc.effective': 'Hiệu lực từ',
  'proc.notFound': 'Không tìm thấy thủ tục có mã {code}.',
  'proc.backToList': 'Về danh sách thủ tục',
  'proc.channel.in_person': 'Trực tiếp',
  'proc.channel.online': 'Trực tuyến',
  'proc.channel.postal': 'Dịch vụ bưu chính',
  'proc.unit.working_day': 'ngày làm việc',
  'proc.unit.day': 'ngày',
  'proc.unit.hour': 'giờ',
  'proc.unit.month': 'tháng',
  'proc.noDuration': 'Không quy định',

  'level.province': 'Cấp tỉnh',
  'level.commune': 'Cấp xã',

  'units.title': 'Đơn vị hành chính',
  'units.lead': 'Sau sắp xếp năm 2025, cả nước có 34 tỉnh, thành phố; chính quyền địa phương có hai cấp: tỉnh và xã.',
  'units.provinces': 'Tỉnh, thành phố',
  'units.provinceCount': '{n} tỉnh, thành phố',
  'units.communes': 'Phường, xã, đặc khu',
  'units.communeCount': '{n} đơn vị cấp xã',
  'units.filtered': 'Hiển thị {shown}/{n} đơn vị',
  'units.filterLabel': 'Lọc theo tên',
  'units.noMatch': 'Không có đơn vị nào khớp.',
  'units.code': 'Mã',
  'units.kind': 'Loại',
  'units.parent': 'Trực thuộc',
  'units.predecessors': 'Hình thành từ các đơn vị trước năm 2025',
  'units.noPredecessors': 'Không có thông tin về đơn vị cũ.',
  'units.type.full': 'toàn bộ',
  'units.type.partial': 'một phần',
  'units.resolveTitle': 'Tra cứu tên cũ',
  'units.resolveLabel': 'Tên đơn vị cũ (trước năm 2025)',
  'units.resolvePlaceholder': 'Ví dụ: Phường Trúc Bạch',
  'units.resolveSubmit': 'Tra cứu',
  'units.resolveNone': 'Không tìm thấy đơn vị nào có tên “{name}”.',
  'units.resolveCount': 'Tìm thấy {n} kết quả cho “{name}”',
  'units.resolveVia': '“{old}” ({type}) nay thuộc',
  'units.resolveCurrent': 'Đây là tên đơn vị hiện hành',
  'units.notFound': 'Không tìm thấy đơn vị có mã {code}.',
  'units.backToList': 'Về danh sách tỉnh, thành phố',

  'users.title': 'Quản lý người dùng',
  'users.noPermission': 'Bạn không có quyền truy cập trang này.',
  'users.needLogin': 'Vui lòng đăng nhập bằng tài khoản quản trị để dùng trang này.',
  'users.list': 'Danh sách tài khoản',
  'users.count': '{n} tài khoản',
  'users.username': 'Tên đăng nhập',
  'users.fullName': 'Họ và tên',
  'users.role': 'Vai trò',
  'users.agency': 'Mã cơ quan',
  'users.agencyHint': 'Bắt buộc với cán bộ thuộc một cơ quan; để trống nếu không có.',
  'users.status': 'Trạng thái',
  'users.active': 'Đang hoạt động',
  'users.disabled': 'Đã vô hiệu hoá',
  'users.disable': 'Vô hiệu hoá',
  'users.disableLabel': 'Vô hiệu hoá tài khoản {name}',
  'users.disabledOk': 'Đã vô hiệu hoá tài khoản {name}.',
  'users.create': 'Tạo tài khoản',
  'users.password': 'Mật khẩu',
  'users.passwordHint': 'Ít nhất 10 ký tự.',
  'users.createSubmit': 'Tạo tài khoản',
  'users.created': 'Đã tạo tài khoản {name}.',
  'users.actions': 'Thao tác',

  'role.citizen': 'Công dân',
  'role.organisation': 'Tổ chức',
  'role.desk_officer': 'Cán bộ một cửa',
  'role.specialist': 'Chuyên viên',
  'role.leader': 'Lãnh đạo',
  'role.agency_admin': 'Quản trị cơ quan',
  'role.city_admin': 'Quản trị thành phố',
  'role.operator': 'Vận hành hệ thống',

  'notFound.title': 'Không tìm thấy trang',
  'notFound.body': 'Trang bạn tìm không tồn tại hoặc đã được chuyển.',
};

export type MsgKey = keyof typeof vi;

const en: Record<MsgKey, string> = {
  'app.name': 'ThangLong',
  'app.tagline': 'Hà Nội Public Service Portal',
  'app.skip': 'Skip to main content',
  'app.footer': 'ThangLong — an open e-government and smart-city platform for Hà Nội.',
  'app.footerData': 'Procedure data from the National Database on Administrative Procedures; administrative units as reorganised in 2025.',
  'lang.switch': 'Tiếng Việt',
  'lang.switchLabel': 'Chuyển sang tiếng Việt',

  'nav.main': 'Main navigation',
  'nav.home': 'Home',
  'nav.procedures': 'Procedures',
  'nav.units': 'Administrative units',
  'nav.users': 'User management',
  'nav.login': 'Log in',
  'nav.logout': 'Log out',
  'nav.greeting': 'Hello, {name} ({role})',

  'common.loading': 'Loading…',
  'common.error': 'Something went wrong.',
  'common.networkError': 'Cannot reach the server. Please try again.',
  'common.retry': 'Try again',
  'common.back': 'Back',
  'common.none': 'None',
  'common.unknown': 'Not available',
  'common.search': 'Search',
  'common.all': 'All',
  'common.filter': 'Filter by name',

  'home.title': 'Hà Nội Public Service Portal',
  'home.lead': 'ThangLong is an open platform for the capital’s e-government and smart city: look up administrative procedures, explore the administrative units created by the 2025 reorganisation and (soon) submit and track applications online.',
  'home.quick': 'Quick links',
  'home.procedures': 'Find a procedure',
  'home.proceduresDesc': 'Search procedures by name, sector or level; see processing times, fees and legal basis.',
  'home.units': 'Administrative units',
  'home.unitsDesc': 'The 34 provinces and cities and Hà Nội’s 126 wards and communes; look up pre-2025 names.',
  'home.login': 'Log in',
  'home.loginDesc': 'For citizens, organisations and civil servants.',
  'home.loggedIn': 'Hello, {name} ({role})',
  'home.admin': 'User management',
  'home.adminDesc': 'Create and disable staff accounts.',

  'login.title': 'Log in',
  'login.username': 'Username',
  'login.password': 'Password',
  'login.submit': 'Log in',
  'login.submitting': 'Logging in…',
  'login.required': 'Please enter your username and password.',
  'login.failed': 'Wrong username or password.',
  'login.rateLimited': 'Too many attempts. Please try again later.',
  'login.already': 'You are logged in as {name}.',

  'proc.title': 'Administrative procedures',
  'proc.searchLabel': 'Procedure name or code',
  'proc.searchPlaceholder': 'e.g. đăng ký khai sinh (birth registration)',
  'proc.searchHint': 'Diacritics are optional.',
  'proc.sector': 'Sector',
  'proc.level': 'Level',
  'proc.results': 'Search results',
  'proc.count': '{n} procedures found',
  'proc.shown': 'Showing {n} procedures',
  'proc.shownOf': 'Showing {shown} of {n} procedures',
  'proc.none': 'No matching procedure.',
  'proc.more': 'Show more',
  'proc.loadingMore': 'Loading more…',
  'proc.code': 'Code',
  'proc.name': 'Name',
  'proc.levels': 'Level',
  'proc.time': 'Processing time',
  'proc.applicants': 'Applicants',
  'proc.agency': 'Competent agency',
  'proc.decision': 'Promulgating decision',
  'proc.fees': 'Fees and charges',
  'proc.feeFree': 'Free of charge',
  'proc.result': 'Result',
  'proc.source': 'Source',
  'proc.sourceLink': 'View on the National Public Service Portal',
  'proc.version': 'Version',
  'proc.effective': 'Effective from',
  'proc.notFound': 'No procedure with code {code}.',
  'proc.backToList': 'Back to procedures',
  'proc.channel.in_person': 'In person',
  'proc.channel.online': 'Online',
  'proc.channel.postal': 'By post',
  'proc.unit.working_day': 'working days',
  'proc.unit.day': 'days',
  'proc.unit.hour': 'hours',
  'proc.unit.month': 'months',
  'proc.noDuration': 'Not specified',

  'level.province': 'Province',
  'level.commune': 'Commune',

  'units.title': 'Administrative units',
  'units.lead': 'Since the 2025 reorganisation Việt Nam has 34 provinces and cities, with two tiers of local government: province and commune.',
  'units.provinces': 'Provinces and cities',
  'units.provinceCount': '{n} provinces and cities',
  'units.communes': 'Wards, communes and special zones',
  'units.communeCount': '{n} commune-level units',
  'units.filtered': 'Showing {shown} of {n} units',
  'units.filterLabel': 'Filter by name',
  'units.noMatch': 'No unit matches.',
  'units.code': 'Code',
  'units.kind': 'Kind',
  'units.parent': 'Part of',
  'units.predecessors': 'Formed from these pre-2025 units',
  'units.noPredecessors': 'No information on former units.',
  'units.type.full': 'whole',
  'units.type.partial': 'part',
  'units.resolveTitle': 'Look up an old name',
  'units.resolveLabel': 'Former unit name (before 2025)',
  'units.resolvePlaceholder': 'e.g. Phường Trúc Bạch',
  'units.resolveSubmit': 'Look up',
  'units.resolveNone': 'No unit named “{name}”.',
  'units.resolveCount': '{n} results for “{name}”',
  'units.resolveVia': '“{old}” ({type}) now belongs to',
  'units.resolveCurrent': 'This is a current unit name',
  'units.notFound': 'No unit with code {code}.',
  'units.backToList': 'Back to provinces and cities',

  'users.title': 'User management',
  'users.noPermission': 'You do not have permission to view this page.',
  'users.needLogin': 'Please log in with an administrator account to use this page.',
  'users.list': 'Accounts',
  'users.count': '{n} accounts',
  'users.username': 'Username',
  'users.fullName': 'Full name',
  'users.role': 'Role',
  'users.agency': 'Agency code',
  'users.agencyHint': 'Required for staff of an agency; leave empty otherwise.',
  'users.status': 'Status',
  'users.active': 'Active',
  'users.disabled': 'Disabled',
  'users.disable': 'Disable',
  'users.disableLabel': 'Disable account {name}',
  'users.disabledOk': 'Account {name} disabled.',
  'users.create': 'Create an account',
  'users.password': 'Password',
  'users.passwordHint': 'At least 10 characters.',
  'users.createSubmit': 'Create account',
  'users.created': 'Account {name} created.',
  'users.actions': 'Actions',

  'role.citizen': 'Citizen',
  'role.organisation': 'Organisation',
  'role.desk_officer': 'Desk officer',
  'role.specialist': 'Specialist',
  'role.leader': 'Leader',
  'role.agency_admin': 'Agency administrator',
  'role.city_admin': 'City administrator',
  'role.operator': 'Operator',

  'notFound.title': 'Page not found',
  'notFound.body': 'The page you are looking for does not exist or has moved.',
};

const dictionaries: Record<Lang, Record<MsgKey, string>> = { vi, en };
const STORAGE_KEY = 'thanglong.lang';

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === 'vi' || saved === 'en') return saved;
  } catch {
    /* storage unavailable */
  }
  return 'vi';
}

export const langStore = createStore<Lang>(initialLang());

export function setLang(lang: Lang): void {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    /* storage unavailable */
  }
  document.documentElement.lang = lang;
  langStore.set(lang);
}

/** Translate `key` in the current language, filling `{param}` placeholders. */
export function t(key: MsgKey, params?: Record<string, string | number>): string {
  const text = dictionaries[langStore.get()][key] ?? vi[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) =>
    name in params ? String(params[name]) : m,
  );
}

/** Translate a dynamic key (e.g. a role or enum value), falling back to the raw value. */
export function tOr(key: string, fallback: string): string {
  const dict = dictionaries[langStore.get()] as Record<string, string>;
  return dict[key] ?? fallback;
}

export function locale(): string {
  return langStore.get() === 'vi' ? 'vi-VN' : 'en-GB';
}

/** Subscribe a component to language changes. */
export function useLang(): Lang {
  return useStore(langStore);
}
