import { defineConfig } from 'vite';

// The web app: Preact components in TSX, built into web/dist, served by `amphi start`.
export default defineConfig({
  root: import.meta.dirname,
  // hls.js (~570 kB) is its own chunk, loaded on the first Play.
  build: { outDir: 'dist', emptyOutDir: true, assetsDir: 'assets', sourcemap: true, chunkSizeWarningLimit: 700 },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});
