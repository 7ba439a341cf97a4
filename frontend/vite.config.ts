/// <reference types="vitest/config" />
import { tanstackRouter } from "@tanstack/router-plugin/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves the SPA on :5173 and proxies the API, so the browser sees one origin as in
// production (where core_api serves the built files itself). FIRMSYNC_API_URL points at a running API.
const api = process.env.FIRMSYNC_API_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [tanstackRouter({ target: "react", autoCodeSplitting: true }), react()],
  server: {
    port: 5173,
    strictPort: true,
    proxy: { "/api": api, "/webhooks": api },
  },
  build: { sourcemap: true, chunkSizeWarningLimit: 900 },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    css: false,
    include: ["src/**/*.test.{ts,tsx}"],
    // CI has two cores: user-event typing through Mantine inputs can take seconds under load.
    testTimeout: 20_000,
  },
});
