// Shared helpers for the one-stop shop (một cửa) pages: labels, roles, agency names, rules, unread count.
import { useEffect, useState } from 'preact/hooks';
import { api, type Agency, type DossierRules, type User } from './api';
import { langStore, t, tOr } from './i18n';
import { createStore, useStore } from './store';
import { userStore } from './session';
import { locationStore } from './router';

export const APPLICANT_ROLES = ['citizen', 'organisation'];
export const OFFICIAL_ROLES = ['desk_officer', 'specialist', 'leader', 'agency_admin', 'city_admin'];

export function isApplicant(user: User | null): boolean {
  return !!user && APPLICANT_ROLES.includes(user.role);
}

export function isOfficial(user: User | null): boolean {
  return !!user && OFFICIAL_ROLES.includes(user.role);
}

export function isDesk(user: User | null): boolean {
  return !!user && user.role === 'desk_officer';
}

/** A state's label: the server's Vietnamese label (data-driven rules) in Vietnamese, ours in English. */
export function statusLabel(status: string, serverLabel?: string | null): string {
  if (langStore.get() === 'vi' && serverLabel) return serverLabel;
  return tOr(`status.${status}`, serverLabel || status);
}

export function actionLabel(action: string): string {
  return tOr(`action.${action}`, action);
}

export function channelLabel(channel: string): string {
  return tOr(`dossier.channel.${channel}`, channel);
}

export function deliveryLabel(delivery: string): string {
  return tOr(`delivery.${delivery}`, delivery);
}

export function workingDaysText(n: number | null | undefined): string {
  if (n === null || n === undefined) return t('common.unknown');
  const text = new Intl.NumberFormat(langStore.get() === 'vi' ? 'vi-VN' : 'en-GB').format(n);
  return t(n === 1 ? 'dossier.workingDay' : 'dossier.workingDays', { n: text });
}

/** "Status pill" class for a dossier state. */
export function statusClass(status: string): string {
  if (status === 'returned') return 'pill pill-ok';
  if (['refused', 'withdrawn', 'stopped', 'rejected'].includes(status)) return 'pill pill-off';
  if (status === 'supplement_requested') return 'pill pill-warn';
  return 'pill';
}

// Agency names, fetched once per code (GET /api/v1/agencies/{code}).
const agencyCache = new Map<string, Promise<Agency | null>>();

export function agencyInfo(code: string): Promise<Agency | null> {
  let p = agencyCache.get(code);
  if (!p) {
    p = api.agency(code).catch(() => null);
    agencyCache.set(code, p);
  }
  return p;
}

export function useAgency(code: string | null | undefined): Agency | null {
  const [agency, setAgency] = useState<Agency | null>(null);
  useEffect(() => {
    let live = true;
    setAgency(null);
    if (code) void agencyInfo(code).then((a) => live && setAgency(a));
    return () => {
      live = false;
    };
  }, [code]);
  return agency;
}

/** "Ủy ban nhân dân Phường Ba Đình (UBND00004)", or the bare code until the name arrives. */
export function agencyText(code: string | null | undefined, agency: Agency | null): string {
  if (!code) return t('common.unknown');
  return agency && agency.code === code ? `${agency.name} (${code})` : code;
}

// The lifecycle rules (states and actions), loaded once.
let rulesPromise: Promise<DossierRules | null> | null = null;

export function loadRules(): Promise<DossierRules | null> {
  if (!rulesPromise) {
    rulesPromise = api.dossierRules().catch(() => {
      rulesPromise = null;
      return null;
    });
  }
  return rulesPromise;
}

export function useRules(): DossierRules | null {
  const [rules, setRules] = useState<DossierRules | null>(null);
  useEffect(() => {
    let live = true;
    void loadRules().then((r) => live && setRules(r));
    return () => {
      live = false;
    };
  }, []);
  return rules;
}

// Unread notifications for the header badge.
export const unreadStore = createStore<number>(0);
let unreadTimer: number | undefined;

export async function refreshUnread(): Promise<void> {
  if (!userStore.get()) {
    unreadStore.set(0);
    return;
  }
  try {
    const res = await api.notifications(true);
    unreadStore.set(res.items.filter((n) => !n.read).length);
  } catch {
    /* keep the last count */
  }
}

/** Keep the unread count fresh while logged in: on login, on each page change, every minute, and when the tab comes back. */
export function startUnreadPolling(): void {
  let lastPath = locationStore.get().path;
  locationStore.subscribe((loc) => {
    if (loc.path === lastPath) return;
    lastPath = loc.path;
    void refreshUnread();
  });
  const restart = () => {
    window.clearInterval(unreadTimer);
    unreadTimer = undefined;
    void refreshUnread();
    if (userStore.get()) unreadTimer = window.setInterval(() => void refreshUnread(), 60_000);
  };
  userStore.subscribe(restart);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void refreshUnread();
  });
  restart();
}

export function useUnread(): number {
  return useStore(unreadStore);
}

/** Today in Hà Nội as YYYY-MM-DD (for date inputs). */
export function hanoiToday(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date());
}

/** Where to send a user after login, if `next` is a local path. */
export function safeNext(next: string | null | undefined): string | null {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : null;
}
