// Quick periods for the report filters, as Beijing civil dates (YYYY-MM-DD): the hall's
// business days are Beijing days whatever the PC's own time zone.
export type PeriodKey = 'today' | 'week' | 'month' | 'lastMonth' | 'year';

const fmt = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai' });

function iso(y: number, m: number, d: number): string {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

export function periodOf(k: PeriodKey, now: Date): { from: string; to: string } {
  const today = fmt.format(now);
  const [y, m, d] = today.split('-').map(Number);
  switch (k) {
    case 'today':
      return { from: today, to: today };
    case 'week': {
      // Monday of this week (getUTCDay on the civil date: 0 = Sunday).
      const civil = new Date(Date.UTC(y, m - 1, d));
      const back = (civil.getUTCDay() + 6) % 7;
      const monday = new Date(Date.UTC(y, m - 1, d - back));
      return { from: monday.toISOString().slice(0, 10), to: today };
    }
    case 'month':
      return { from: iso(y, m, 1), to: today };
    case 'lastMonth': {
      const last = new Date(Date.UTC(y, m - 1, 0));
      return { from: iso(last.getUTCFullYear(), last.getUTCMonth() + 1, 1), to: last.toISOString().slice(0, 10) };
    }
    case 'year':
      return { from: iso(y, 1, 1), to: today };
  }
}
