// A desktop SPA: no server rendering; every route is prerendered as a shell.
export const ssr = false;
export const prerender = true;
