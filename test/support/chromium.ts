import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';

/** Debian's Chromium (apt `chromium`), driven by playwright-core; CHROMIUM_PATH names another. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless Chromium as root on this closed network: no sandbox (root), and none of the
 * background connections it would make at start (refused here, many at a time).
 */
export function launchChromium(options: { extraArgs?: string[] } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...(options.extraArgs ?? [])],
  });
}

/** A page's script: `entry` and what it imports (the SDK's source) bundled for the browser as one ES module. */
export async function bundlePageScript(entry: URL): Promise<string> {
  const bundle = await build({ entryPoints: [entry.pathname], bundle: true, write: false, format: 'esm', platform: 'browser' });
  return bundle.outputFiles[0]?.text ?? '';
}
