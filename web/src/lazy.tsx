import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ErrorBox, Loading } from './ui';

/** A page loaded on first visit, in its own chunk (heavy pages: the map of the operations centre). */
export function lazyPage(load: () => Promise<ComponentType>): ComponentType {
  let loaded: ComponentType | null = null;
  return function LazyPage() {
    const [page, setPage] = useState<{ C: ComponentType } | null>(loaded ? { C: loaded } : null);
    const [error, setError] = useState<unknown>(null);
    const [attempt, setAttempt] = useState(0);
    useEffect(() => {
      if (page) return undefined;
      let live = true;
      load().then(
        (C) => {
          loaded = C;
          if (live) setPage({ C });
        },
        (e) => live && setError(e),
      );
      return () => {
        live = false;
      };
    }, [attempt]);
    if (page) return <page.C />;
    if (error !== null) return <ErrorBox error={error} onRetry={() => (setError(null), setAttempt((n) => n + 1))} />;
    return <Loading />;
  };
}
