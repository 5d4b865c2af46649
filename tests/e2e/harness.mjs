// Serves the repository root with `serve` on a free loopback port and drives Debian's
// Chromium with playwright-core: what the end-to-end tests share.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

/**
 * Starts the static server; resolves to `{ url, close }`. By default the site is
 * cross-origin isolated (serve.json); `{ isolated: false }` serves it without the two
 * headers, as most sites are.
 */
export async function serveSite({ isolated = true } = {}) {
  const port = await freePort();
  const config = isolated ? 'serve.json' : 'tests/e2e/serve.no-isolation.json';
  const server = spawn(
    process.execPath,
    ['node_modules/serve/build/main.js', '--no-clipboard', '--config', config, '--listen', `tcp://127.0.0.1:${port}`, '.'],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/index.html`)).ok) break;
    } catch {
      if (i > 100) throw new Error(`serve did not answer on ${url}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, close: () => server.kill() };
}

/** Debian's Chromium, headless, as root. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** A page that collects console errors and uncaught exceptions into `problems`. */
export async function openPage(browser, url) {
  const page = await browser.newPage();
  page.problems = [];
  page.on('pageerror', (error) => page.problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') page.problems.push(`console: ${message.text()}`);
  });
  await page.goto(url);
  return page;
}
