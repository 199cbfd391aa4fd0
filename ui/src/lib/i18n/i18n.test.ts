import { describe, expect, it } from 'vitest';
import { zhCN } from './zh-CN';
import { en } from './en';
import { ERROR_CODES } from '../bindings/operations';
import { errorText } from '../errors';
import { ApiError } from '../backend';

function tr(cat: Record<string, string>) {
  return (key: string, params: Record<string, string | number> = {}) =>
    (cat[key] ?? key).replace(/\{(\w+)\}/g, (_, n: string) => (n in params ? String(params[n]) : `{${n}}`));
}

describe('message catalogs', () => {
  it('have the same keys in both languages', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zhCN).sort());
  });
  it('translate every error code core can return', () => {
    for (const code of ERROR_CODES) {
      expect(zhCN[`error.${code}`], code).toBeTruthy();
      expect(en[`error.${code}`], code).toBeTruthy();
    }
  });
  it('use the same placeholders in both languages', () => {
    for (const k of Object.keys(zhCN)) {
      const ph = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(ph(en[k]), k).toEqual(ph(zhCN[k]));
    }
  });
  it('map a coded error with params and the field label', () => {
    const e = new ApiError({ code: 'window_occupied', message: 'x', params: { window: '1', holder: '张伟' } });
    expect(errorText(tr(zhCN), e)).toBe('1号窗口已由张伟登录，请先由其退出或由分管领导释放');
    const f = new ApiError({ code: 'required', message: 'x', field: 'name', params: {} });
    expect(errorText(tr(en), f)).toBe('Name is required');
  });
});
