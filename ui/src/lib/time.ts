// Times are shown in the hall's zone, Asia/Shanghai, whatever the PC's own zone is.
const TZ = 'Asia/Shanghai';

export function hhmm(ts: string | Date): string {
  return new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(ts));
}

export function dateTime(ts: string | Date): string {
  return new Intl.DateTimeFormat('zh-CN', {
    timeZone: TZ,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  }).format(new Date(ts));
}

export function longDate(ts: Date, locale: string): string {
  return new Intl.DateTimeFormat(locale, { timeZone: TZ, year: 'numeric', month: 'long', day: 'numeric', weekday: 'long' }).format(ts);
}

/** The start of a Beijing calendar day given as YYYY-MM-DD, as an ISO instant. */
export function beijingDayStart(day: string): string {
  return new Date(`${day}T00:00:00+08:00`).toISOString();
}

/** The weekday of a YYYY-MM-DD date: 0 Sunday … 6 Saturday (computed, not the PC's locale). */
export function weekdayOf(day: string): number {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay();
}
