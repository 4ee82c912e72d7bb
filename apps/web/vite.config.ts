import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// In development the API runs separately; proxying keeps the app same-origin, which the API's CSRF check requires
// for cookie-authenticated mutations (the browser sends `Sec-Fetch-Site: same-origin`).
const apiOrigin = process.env.API_ORIGIN ?? 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    proxy: {
      '/trpc': { target: apiOrigin },
      '/api': { target: apiOrigin },
      // The icon is the API's (the docs pages show it too): one file, served from one place.
      '/favicon.svg': { target: apiOrigin },
      '/docs': { target: apiOrigin },
    },
  },
  build: {
    target: 'es2022',
    // Maps are written for debugging but not referenced from the bundle, so browsers never fetch them.
    sourcemap: 'hidden',
  },
});
