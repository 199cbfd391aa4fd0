// Fails on missing or unused message keys.
// - every t('key') / t(`prefix.${x}`) literal in src must exist in zh-CN (and en has the same keys,
//   checked by vitest);
// - every catalog key must be used somewhere in src, except dynamic families whose members are
//   derived from generated bindings: error.<ErrorCode>, role.<Role>, field.<field name>,
//   admin.tab.<tab> (listed in the admin page).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../src', import.meta.url).pathname;
const files = [];
(function walk(d) {
  for (const f of readdirSync(d)) {
    const p = join(d, f);
    if (statSync(p).isDirectory()) {
      if (!p.includes('bindings')) walk(p);
    } else if (/\.(svelte|ts)$/.test(f) && !/\.test\.ts$/.test(f) && !p.includes('/i18n/')) files.push(p);
  }
})(root);
const src = files.map((f) => readFileSync(f, 'utf8')).join('\n');
const catalog = readFileSync(join(root, 'lib/i18n/zh-CN.ts'), 'utf8');
const keys = [...catalog.matchAll(/^\s*'([\w.]+)':/gm)].map((m) => m[1]);
const keySet = new Set(keys);
const problems = [];

for (const m of src.matchAll(/\bt\(\s*'([\w.]+)'/g)) if (!keySet.has(m[1])) problems.push(`missing key: ${m[1]}`);
const dynamicPrefixes = [...src.matchAll(/\bt\(\s*`([\w.]+)\$\{/g)].map((m) => m[1]);
dynamicPrefixes.push('error.', 'field.');
for (const k of keys) {
  const used = src.includes(`'${k}'`) || dynamicPrefixes.some((p) => k.startsWith(p));
  if (!used) problems.push(`unused key: ${k}`);
}
const codes = readFileSync(join(root, 'lib/bindings/ErrorCode.ts'), 'utf8');
for (const m of codes.matchAll(/"(\w+)"/g)) if (!keySet.has(`error.${m[1]}`)) problems.push(`error code without text: ${m[1]}`);
// Every operation reads as words in the audit log.
const operations = JSON.parse(readFileSync(join(root, 'lib/bindings/operations.json'), 'utf8'));
for (const o of operations) if (!keySet.has(`op.${o.name}`)) problems.push(`operation without a label: ${o.name} (add op.${o.name})`);
const roles = readFileSync(join(root, 'lib/bindings/Role.ts'), 'utf8');
for (const m of roles.matchAll(/"(\w+)"/g)) if (!keySet.has(`role.${m[1]}`)) problems.push(`role without text: ${m[1]}`);

if (problems.length) {
  console.error(problems.join('\n'));
  console.error(`i18n check: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`i18n check: ${keys.length} keys, all used and defined`);
