import { useState } from 'preact/hooks';
import { api, type Notification } from '../api';
import { t } from '../i18n';
import { refreshUnread } from '../dossier';
import { dateTimeText } from '../format';
import { Link } from '../router';
import { useUser } from '../session';
import { ErrorBox, Loading, useAsync, useTitle } from '../ui';
import { NeedLogin } from './DossierNew';

function Inbox() {
  const res = useAsync((signal) => api.notifications(false, signal), []);
  // Locally marked as read (the list is not reloaded on every click).
  const [read, setRead] = useState<Set<number>>(new Set());
  const [error, setError] = useState<unknown>(null);
  const isRead = (n: Notification) => n.read || read.has(n.id);
  const markRead = async (n: Notification) => {
    if (isRead(n)) return;
    try {
      await api.markRead(n.id);
      setRead((s) => new Set(s).add(n.id));
      void refreshUnread();
    } catch (e) {
      setError(e);
    }
  };
  if (res.loading && !res.data) return <Loading />;
  if (res.error !== undefined) return <ErrorBox error={res.error} onRetry={res.reload} />;
  const items = res.data?.items ?? [];
  const unread = items.filter((n) => !isRead(n)).length;
  return (
    <>
      <p class="result-count" role="status" aria-live="polite" data-testid="unread-count">
        {t('notif.unreadCount', { n: unread })}
      </p>
      {error !== null && <ErrorBox error={error} />}
      {items.length === 0 ? (
        <p class="empty">{t('notif.none')}</p>
      ) : (
        <ul class="inbox" data-testid="inbox">
          {items.map((n) => (
            <li key={n.id} class={isRead(n) ? 'note' : 'note unread'}>
              <h2 class="note-title">
                {!isRead(n) && <span class="flag flag-soon">{t('notif.unread')}</span>} {n.title}
              </h2>
              {n.body && n.body !== n.title && <p class="note-body">{n.body}</p>}
              <p class="note-meta">
                <time dateTime={n.created_at}>{dateTimeText(n.created_at)}</time>
                {n.dossier_code && (
                  <>
                    {' · '}
                    <Link href={`/dossiers/${encodeURIComponent(n.dossier_code)}`} onClick={() => void markRead(n)}>
                      {t('notif.open', { code: n.dossier_code })}
                    </Link>
                  </>
                )}
                {!isRead(n) && (
                  <>
                    {' · '}
                    <button
                      type="button"
                      class="btn btn-secondary btn-small"
                      aria-label={t('notif.markReadLabel', { title: n.title })}
                      onClick={() => void markRead(n)}
                    >
                      {t('notif.markRead')}
                    </button>
                  </>
                )}
              </p>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

export function Notifications() {
  useTitle(t('notif.title'));
  const user = useUser();
  return (
    <section>
      <h1>{t('notif.title')}</h1>
      {user ? <Inbox key={user.username} /> : <NeedLogin />}
    </section>
  );
}
