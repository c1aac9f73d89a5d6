import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

// Served by the gateway under /workbench/ (gateway/src/gateway/workbench.py); `npm run dev` proxies
// the API to a running platform (make up) so the pages can be worked on with hot reload.
export default defineConfig({
  base: '/workbench/',
  plugins: [vue()],
  build: { outDir: 'dist', chunkSizeWarningLimit: 1500 },
  server: { proxy: { '/api': process.env.YB_GATEWAY_URL ?? 'http://127.0.0.1:8000' } },
  test: { environment: 'jsdom', include: ['tests/**/*.test.ts'] },
})
