import { describe, expect, it } from 'vitest';
import { type Burst, feed } from './idReader';

function type(keys: string[], step: number, start = 1000): (string | null)[] {
  let b: Burst = { chars: '', startedAt: 0, lastAt: 0 };
  const out: (string | null)[] = [];
  keys.forEach((k, i) => {
    const r = feed(b, k, start + i * step);
    b = r.burst;
    out.push(r.id);
  });
  return out;
}

const ID = '11010519491231002X';

describe('the keyboard-mode ID reader', () => {
  it('reads a fast burst of 18 characters ended by Enter', () => {
    const out = type([...ID.split(''), 'Enter'], 10);
    expect(out.at(-1)).toBe(ID);
  });
  it('takes a lower-case x as X', () => {
    const out = type([...ID.toLowerCase().split(''), 'Enter'], 10);
    expect(out.at(-1)).toBe(ID);
  });
  it('ignores a person typing the same slowly', () => {
    const out = type([...ID.split(''), 'Enter'], 300);
    expect(out.every((x) => x === null)).toBe(true);
  });
  it('ignores too few characters and other keys', () => {
    expect(type([...'1101051949'.split(''), 'Enter'], 10).at(-1)).toBeNull();
    expect(type([...ID.slice(0, 9).split(''), 'a', ...ID.slice(9).split(''), 'Enter'], 10).at(-1)).toBeNull();
  });
});
