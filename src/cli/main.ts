#!/usr/bin/env node
import { runCli } from './run-cli.ts';

// A reader that stops early (`uuid-lookup report … | head`) closes the pipe: what is
// left to print has nowhere to go, which is no error of the command's. Quietly stop.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await runCli(process.argv);
