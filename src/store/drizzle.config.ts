import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` writes migrations/ from src/store/schema.ts; they are committed and
// applied at start by src/store/database.ts.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/store/schema.ts',
  out: './migrations',
});
