import { defineConfig } from 'vite';

// Node's `process` without pulling in @types/node for one line.
declare const process: { env: Record<string, string | undefined> };

// The C++ server serves dist/ at "/" under a strict CSP (script-src 'self'; style-src 'self'):
// no inline scripts or styles may be emitted, so the modulepreload polyfill is off and
// assets are never inlined into index.html.
export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev` proxies the API to a running backend (or dev/mock-server.mjs).
    proxy: { '/api': process.env.THANGLONG_API ?? 'http://127.0.0.1:8080' },
  },
});
