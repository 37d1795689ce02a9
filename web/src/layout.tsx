import type { ComponentChildren } from 'preact';
import { logout } from './auth';
import { setLang, t, useLang } from './i18n';
import { roleName } from './format';
import { Link, navigate, useLocation } from './router';
import { isAdmin, useUser } from './session';
import { isApplicant, isDesk, isOfficial, useUnread } from './dossier';

/** A nav link, highlighted on its own page and on the pages below it (/procedures/…). */
function NavItem({ href, label, children }: { href: string; label: string; children?: ComponentChildren }) {
  const { path } = useLocation();
  const active = href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);
  return (
    <li>
      <Link href={href} class={active ? 'active' : undefined}>
        {label}
        {children}
      </Link>
    </li>
  );
}

/** "Thông báo" with the unread count; the count is part of the link's accessible name. */
function NotificationsItem() {
  const unread = useUnread();
  return (
    <NavItem href="/me/notifications" label={t('nav.notifications')}>
      {unread > 0 && (
        <span class="badge" data-testid="unread-badge">
          <span aria-hidden="true">{unread}</span>
          <span class="visually-hidden">, {t('nav.unread', { n: unread })}</span>
        </span>
      )}
    </NavItem>
  );
}

function Header() {
  const lang = useLang();
  const user = useUser();
  const onLogout = async () => {
    await logout();
    navigate('/');
  };
  return (
    <header class="site-header">
      <div class="topbar">
        <div class="container topbar-inner">
          <Link href="/" class="brand">
            <span class="brand-mark" aria-hidden="true">
              ★
            </span>
            <span class="brand-text">
              <span class="brand-name">{t('app.name')}</span>
              <span class="brand-sep" aria-hidden="true">
                {' '}
                —{' '}
              </span>
              <span class="brand-tagline">{t('app.tagline')}</span>
            </span>
          </Link>
          <div class="account">
            <button
              type="button"
              class="btn btn-ghost lang-switch"
              lang={lang === 'vi' ? 'en' : 'vi'}
              title={t('lang.switchLabel')}
              onClick={() => setLang(lang === 'vi' ? 'en' : 'vi')}
            >
              {t('lang.switch')}
            </button>
            {user ? (
              <>
                <span class="greeting" data-testid="greeting">
                  {t('nav.greeting', { name: user.full_name, role: roleName(user.role) })}
                </span>
                <button type="button" class="btn btn-ghost" onClick={onLogout}>
                  {t('nav.logout')}
                </button>
              </>
            ) : (
              <Link href="/login" class="btn btn-ghost login-link">
                {t('nav.login')}
              </Link>
            )}
          </div>
        </div>
      </div>
      <nav class="mainnav" aria-label={t('nav.main')}>
        <ul class="container">
          <NavItem href="/" label={t('nav.home')} />
          <NavItem href="/procedures" label={t('nav.procedures')} />
          <NavItem href="/units" label={t('nav.units')} />
          <NavItem href="/tra-cuu-ho-so" label={t('nav.track')} />
          {/* Public, like GET /api/v1/stats/service-index*: shown to everyone. */}
          <NavItem href="/dashboard" label={t('nav.dashboard')} />
          {isApplicant(user) && <NavItem href="/me/dossiers" label={t('nav.myDossiers')} />}
          {user?.role === 'citizen' && <NavItem href="/me/wallet" label={t('nav.wallet')} />}
          {(user?.role === 'citizen' || user?.role === 'organisation') && (
            <NavItem href="/me/data" label={t('nav.myData')} />
          )}
          {isOfficial(user) && <NavItem href="/queue" label={t('nav.queue')} />}
          {isDesk(user) && <NavItem href="/desk/new" label={t('nav.desk')} />}
          {user && ['desk_officer', 'specialist', 'leader'].includes(user.role) && (
            <NavItem href="/registry" label={t('nav.registry')} />
          )}
          {user && <NotificationsItem />}
          {isAdmin(user) && <NavItem href="/admin/users" label={t('nav.users')} />}
          {user?.role === 'city_admin' && <NavItem href="/admin/calendar" label={t('nav.calendar')} />}
          {user && ['operator', 'city_admin'].includes(user.role) && <NavItem href="/ops" label={t('nav.ops')} />}
          {user?.role === 'city_admin' && <NavItem href="/admin/exchange" label={t('nav.exchange')} />}
          {user?.role === 'city_admin' && <NavItem href="/admin/api-keys" label={t('nav.apiKeys')} />}
        </ul>
      </nav>
    </header>
  );
}

export function Layout({ children }: { children: ComponentChildren }) {
  return (
    <>
      <a class="skip-link" href="#main">
        {t('app.skip')}
      </a>
      <Header />
      <main id="main" tabIndex={-1} class="container">
        {children}
      </main>
      <footer class="site-footer">
        <div class="container">
          <p>{t('app.footer')}</p>
          <p class="muted">{t('app.footerData')}</p>
        </div>
      </footer>
    </>
  );
}
