#!/usr/bin/env node
// Entry point for `gmemd` (package.json "bin"): registers tsx, which the project runs on,
// then runs ../cli.ts with the process's arguments.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli.ts');
process.exitCode = await main(process.argv.slice(2), process.env, {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
  write: (s) => process.stdout.write(s),
});
