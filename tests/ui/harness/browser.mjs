// Headless Debian Chromium driven through playwright-core (no browser download).
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const CHROMIUM = process.env.VIGIL_CHROMIUM || '/usr/bin/chromium';

export async function launchChromium(nodeModules) {
  const { chromium } = createRequire(join(resolve(nodeModules), 'noop.js'))('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'vigil-ui-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage'],
  });
  return {
    context,
    close: async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); },
  };
}
