/// <reference types="vitest/config" />
// Vite builds web/dist (served by `pulse serve` at /); Vitest runs the component tests in jsdom.
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";

import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  build: { outDir: "dist", sourcemap: false, chunkSizeWarningLimit: 600 },
  server: { proxy: { "/api": process.env.PULSE_API_URL ?? "http://127.0.0.1:8000" } },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.tsx"],
    css: false,
  },
});
