import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api';
import { t } from './i18n';

/** Human-readable message for a failed call: the problem's `detail` first. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.problem.detail || e.problem.title || t('common.error');
  if (e instanceof TypeError) return t('common.networkError');
  return t('common.error');
}

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div class="alert alert-error" role="alert">
      <p>{errorMessage(error)}</p>
      {onRetry && (
        <button type="button" class="btn btn-secondary" onClick={onRetry}>
          {t('common.retry')}
        </button>
      )}
    </div>
  );
}

export function Loading() {
  return (
    <p class="muted" role="status">
      {t('common.loading')}
    </p>
  );
}

export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} — ${t('app.name')}` : `${t('app.name')} — ${t('app.tagline')}`;
  }, [title]);
}

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Run `fn` whenever `deps` change; stale responses are aborted and ignored. */
export function useAsync<T>(fn: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ data: s.data, loading: true }));
    fnRef.current(ctl.signal).then(
      (data) => !ctl.signal.aborted && setState({ data, loading: false }),
      (error) => !ctl.signal.aborted && setState({ error, loading: false }),
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export function Field({
  id,
  label,
  hint,
  children,
}: {
  id: string;
  label: string;
  hint?: string;
  children: ComponentChildren;
}) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}

/** The "load more" button of a keyset-paged list: shown while there is a next page. */
export function LoadMore({
  next,
  loading,
  onMore,
  label = t('q.more'),
}: {
  next: string | null | undefined;
  loading: boolean;
  onMore: (cursor: string) => void;
  label?: string;
}) {
  if (!next) return null;
  return (
    <p class="more">
      <button type="button" class="btn btn-secondary" disabled={loading} onClick={() => onMore(next)}>
        {loading ? t('proc.loadingMore') : label}
      </button>
    </p>
  );
}

/** One label/value pair of a <dl class="fields"> description list. */
export function Row({ label, children, testid }: { label: string; children: ComponentChildren; testid?: string }) {
  return (
    <div class="row">
      <dt>{label}</dt>
      <dd data-testid={testid}>{children}</dd>
    </div>
  );
}
