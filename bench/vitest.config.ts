// The bench's own helper tests (`npx vitest run -c bench/vitest.config.ts`). They check the
// arithmetic and the report format; no timing is ever asserted.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'bench', include: ['bench/test/**/*.test.ts'], root: new URL('..', import.meta.url).pathname },
});
