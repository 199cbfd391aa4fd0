import type { ApiError } from './backend';

type T = (key: string, params?: Record<string, string | number>) => string;

/** Translate a coded error: `error.<code>` with its params, the field named in the UI language. */
export function errorText(t: T, e: ApiError): string {
  const fieldKey = e.field ? `field.${e.field}` : '';
  const fieldLabel = fieldKey && t(fieldKey) !== fieldKey ? t(fieldKey) : '';
  return t(`error.${e.code}`, { field: fieldLabel, ...e.params });
}
