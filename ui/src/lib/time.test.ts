import { describe, expect, it } from 'vitest';
import { beijingDayStart, hhmm } from './time';

describe('hall time', () => {
  it('shows Beijing time whatever the machine zone', () => {
    expect(hhmm('2026-11-23T02:05:00Z')).toBe('10:05');
  });
  it('turns a Beijing day into its UTC start', () => {
    expect(beijingDayStart('2026-11-23')).toBe('2026-11-22T16:00:00.000Z');
  });
});
