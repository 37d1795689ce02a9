// Fails the build if dist/index.html would break the server's CSP
// (script-src 'self'; style-src 'self'): no inline <script>, <style>, style="" or on*="" handlers.
import { readFileSync } from 'node:fs';

const html = readFileSync(new URL('../dist/index.html', import.meta.url), 'utf8');
const problems = [];
for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
  if (!/\bsrc=/.test(m[1]) || m[2].trim()) problems.push(`inline script: ${m[0].slice(0, 80)}`);
}
if (/<style\b/i.test(html)) problems.push('inline <style> element');
if (/\sstyle\s*=/i.test(html)) problems.push('style="" attribute');
if (/\son[a-z]+\s*=/i.test(html)) problems.push('inline event handler attribute');
if (/(https?:)?\/\/[^"' ]*(googleapis|gstatic|cdn|unpkg|jsdelivr)/i.test(html)) problems.push('remote asset');
if (problems.length) {
  console.error(`dist/index.html violates the CSP:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('dist/index.html: no inline scripts or styles (CSP ok)');
