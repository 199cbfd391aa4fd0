// What a clerk reads when a notice has no printer to go to: the PDF is archived either way; only
// an administrator can choose the hall's notice printer (管理 › 文书), so only they are sent there.
import { t } from '$lib/i18n/index.svelte';
import { session } from '$lib/session.svelte';

export function noPrinterText(): string {
  return session.current?.staff.role === 'admin' ? t('app.noPrinterAdmin') : t('app.noPrinter');
}
