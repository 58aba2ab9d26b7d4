import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The built console is committed under dist/ and embedded in the tarian
// binary (console.go), so the build must be deterministic and must obey the
// server's Content-Security-Policy (internal/web/headers.go): no inline
// scripts or styles, only external module scripts and stylesheets.
export default defineConfig({
  plugins: [svelte({ compilerOptions: { css: 'external' } })],
  // `npm run dev`: the sources with live reload, the API from a running
  // tarian (TARIAN_URL, default http://127.0.0.1:8080).
  server: {
    proxy: Object.fromEntries(
      ['/api', '/auth'].map((p) => [p, { target: process.env.TARIAN_URL ?? 'http://127.0.0.1:8080', changeOrigin: false }]),
    ),
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
});
