import { t } from '../i18n';
import { Link } from '../router';
import { useTitle } from '../ui';

export function NotFound() {
  useTitle(t('notFound.title'));
  return (
    <section>
      <h1>{t('notFound.title')}</h1>
      <p>{t('notFound.body')}</p>
      <p>
        <Link href="/">{t('nav.home')}</Link>
      </p>
    </section>
  );
}
