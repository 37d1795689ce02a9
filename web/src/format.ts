import type { Fee, Processing } from './api';
import { locale, t, tOr } from './i18n';

/** Diacritics-insensitive, case-insensitive folding for client-side filters (đ → d). */
export function fold(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase()
    .trim();
}

export function roleName(role: string): string {
  return tOr(`role.${role}`, role);
}

export function levelName(level: string): string {
  return tOr(`level.${level}`, level);
}

export function levelsText(levels: string[] | undefined): string {
  return levels && levels.length ? levels.map(levelName).join(', ') : t('common.unknown');
}

export function channelName(channel: string): string {
  return tOr(`proc.channel.${channel}`, channel);
}

export function durationText(p: Processing): string {
  if (p.duration === null || p.duration === undefined) return t('proc.noDuration');
  const n = new Intl.NumberFormat(locale()).format(p.duration);
  return p.unit ? `${n} ${tOr(`proc.unit.${p.unit}`, p.unit)}` : n;
}

/** "Trực tiếp: 5 ngày làm việc; Trực tuyến: 3 ngày làm việc" */
export function processingText(list: Processing[] | undefined): string {
  if (!list || !list.length) return t('common.unknown');
  return list.map((p) => `${channelName(p.channel)}: ${durationText(p)}`).join('; ');
}

export function vnd(amount: number): string {
  return new Intl.NumberFormat(locale(), { style: 'currency', currency: 'VND', maximumFractionDigits: 0 }).format(
    amount,
  );
}

export function feeText(fee: Fee): string {
  if (typeof fee === 'number') return fee === 0 ? t('proc.feeFree') : vnd(fee);
  if (typeof fee === 'string') return fee;
  const label = fee.description ?? fee.label ?? fee.note ?? '';
  const amount = typeof fee.amount === 'number' ? (fee.amount === 0 ? t('proc.feeFree') : vnd(fee.amount)) : '';
  return [label, amount].filter(Boolean).join(': ') || t('common.unknown');
}

export function feesText(fees: Fee[] | undefined): string {
  if (!fees || !fees.length) return t('common.none');
  return fees.map(feeText).join('; ');
}

export function dateText(iso: string | null | undefined): string {
  if (!iso) return t('common.unknown');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'long', timeZone: 'Asia/Ho_Chi_Minh' }).format(d);
}

/** "17:00 23/11/2026" in Hà Nội time, whatever the browser's time zone. */
export function dateTimeText(iso: string | null | undefined): string {
  if (!iso) return t('common.unknown');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(), {
    timeZone: 'Asia/Ho_Chi_Minh',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(d);
}
