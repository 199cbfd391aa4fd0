// The message catalog. Every user-visible string goes through t(); the UI maps error codes
// to text here, never by parsing the Chinese message from core.
import { zhCN } from './zh-CN';
import { en } from './en';

export type Locale = 'zh-CN' | 'en';
const catalogs: Record<Locale, Record<string, string>> = { 'zh-CN': zhCN, en };

export const i18n = $state<{ locale: Locale }>({ locale: 'zh-CN' });

export function setLocale(l: Locale) {
  i18n.locale = l;
  document.documentElement.lang = l;
  try {
    localStorage.setItem('onetrip.locale', l);
  } catch {
    /* storage may be unavailable */
  }
}

export function restoreLocale() {
  try {
    const saved = localStorage.getItem('onetrip.locale');
    if (saved === 'en' || saved === 'zh-CN') setLocale(saved);
  } catch {
    /* ignore */
  }
}

export function translate(locale: Locale, key: string, params: Record<string, string | number> = {}): string {
  const text = catalogs[locale][key] ?? catalogs['zh-CN'][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name: string) => (name in params ? String(params[name]) : `{${name}}`));
}

export function t(key: string, params: Record<string, string | number> = {}): string {
  return translate(i18n.locale, key, params);
}

/** Whether the catalog has `key` (for families with a raw fallback, such as operation names). */
export function has(key: string): boolean {
  return key in catalogs['zh-CN'];
}
