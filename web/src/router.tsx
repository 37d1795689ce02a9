import type { ComponentChildren, JSX } from 'preact';
import { createStore, useStore } from './store';

/** History-API router: paths like /procedures/1.004227, no hash. */
export interface Location {
  path: string;
  search: URLSearchParams;
}

function current(): Location {
  return { path: location.pathname, search: new URLSearchParams(location.search) };
}

export const locationStore = createStore<Location>(current());

addEventListener('popstate', () => locationStore.set(current()));

/** Go to `to` (path + optional query). `replace` keeps the history entry (used while typing). */
export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const before = location.pathname + location.search;
  if (to === before) return;
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  const prevPath = locationStore.get().path;
  locationStore.set(current());
  if (!opts.replace && prevPath !== location.pathname) scrollTo(0, 0);
}

export function useLocation(): Location {
  return useStore(locationStore);
}

/** Build "path?k=v" skipping empty values. */
export function withQuery(path: string, params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

type Route = { pattern: string; render: (params: Record<string, string>) => JSX.Element };

/** Match `path` against ":name" patterns; returns the first matching route's element. */
export function matchRoute(routes: Route[], path: string, fallback: () => JSX.Element): JSX.Element {
  const parts = path.replace(/\/+$/, '').split('/').slice(1);
  for (const r of routes) {
    const pp = r.pattern.replace(/\/+$/, '').split('/').slice(1);
    if (pp.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pp.length; i++) {
      if (pp[i].startsWith(':')) {
        try {
          params[pp[i].slice(1)] = decodeURIComponent(parts[i]);
        } catch {
          ok = false;
        }
      } else if (pp[i] !== parts[i]) ok = false;
      if (!ok) break;
    }
    if (ok) return r.render(params);
  }
  return fallback();
}

type LinkProps = Omit<JSX.HTMLAttributes<HTMLAnchorElement>, 'href'> & {
  href: string;
  children?: ComponentChildren;
};

/** An <a> that navigates client-side on a plain left click and stays a real link otherwise. */
export function Link({ href, onClick, ...rest }: LinkProps) {
  const handle = (e: JSX.TargetedMouseEvent<HTMLAnchorElement>) => {
    if (typeof onClick === 'function') onClick(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  const active = locationStore.get().path === href;
  return <a href={href} onClick={handle} aria-current={active ? 'page' : undefined} {...rest} />;
}
