#!/usr/bin/env node
// Entry point for `gmemd` (package.json "bin" points at its compiled form, dist/bin/gmemd.js):
// runs the CLI with the process's arguments.
import { main } from '../cli.js';

process.exitCode = await main(process.argv.slice(2), process.env, {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
  write: (s) => process.stdout.write(s),
});
