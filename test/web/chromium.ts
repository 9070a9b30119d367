// How the browser tests start Debian's Chromium through playwright-core: headless, no GPU, no
// network of its own beyond the test's loopback server.
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.M2FN_CHROMIUM ?? '/usr/bin/chromium';
export const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function assertChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is needed for the browser tests and ${CHROMIUM} does not exist. ` +
        `Install it with: apt-get update && apt-get install -y chromium (or set M2FN_CHROMIUM to a Chromium binary).`,
    );
  }
}
