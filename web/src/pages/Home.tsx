import { t } from '../i18n';
import { roleName } from '../format';
import { Link } from '../router';
import { isAdmin, useUser } from '../session';
import { isApplicant, isDesk, isOfficial } from '../dossier';
import { useTitle } from '../ui';

export function Home() {
  const user = useUser();
  useTitle('');
  return (
    <>
      <section class="hero">
        <h1>{t('home.title')}</h1>
        <p class="lead">{t('home.lead')}</p>
        {user && (
          <p class="welcome" data-testid="home-greeting">
            {t('home.loggedIn', { name: user.full_name, role: roleName(user.role) })}
          </p>
        )}
      </section>
      <section aria-labelledby="quick-title">
        <h2 id="quick-title">{t('home.quick')}</h2>
        <ul class="cards">
          <li class="card">
            <h3>
              <Link href="/procedures">{t('home.procedures')}</Link>
            </h3>
            <p>{t('home.proceduresDesc')}</p>
          </li>
          <li class="card">
            <h3>
              <Link href="/units">{t('home.units')}</Link>
            </h3>
            <p>{t('home.unitsDesc')}</p>
          </li>
          <li class="card">
            <h3>
              <Link href="/tra-cuu-ho-so">{t('home.track')}</Link>
            </h3>
            <p>{t('home.trackDesc')}</p>
          </li>
          {isApplicant(user) && (
            <li class="card">
              <h3>
                <Link href="/me/dossiers">{t('home.mine')}</Link>
              </h3>
              <p>{t('home.mineDesc')}</p>
            </li>
          )}
          {isOfficial(user) && (
            <li class="card">
              <h3>
                <Link href="/queue">{t('home.queue')}</Link>
              </h3>
              <p>{t('home.queueDesc')}</p>
            </li>
          )}
          {isDesk(user) && (
            <li class="card">
              <h3>
                <Link href="/desk/new">{t('home.desk')}</Link>
              </h3>
              <p>{t('home.deskDesc')}</p>
            </li>
          )}
          {!user && (
            <li class="card">
              <h3>
                <Link href="/login">{t('home.login')}</Link>
              </h3>
              <p>{t('home.loginDesc')}</p>
            </li>
          )}
          {isAdmin(user) && (
            <li class="card">
              <h3>
                <Link href="/admin/users">{t('home.admin')}</Link>
              </h3>
              <p>{t('home.adminDesc')}</p>
            </li>
          )}
        </ul>
      </section>
    </>
  );
}
