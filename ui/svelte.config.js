import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** SPA: every route is prerendered as an empty shell (ssr = false) so the Tauri asset
 * protocol finds `counter.html`, `display.html`, … directly. */
const config = {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ pages: 'dist', assets: 'dist', strict: true }),
  },
};
export default config;
