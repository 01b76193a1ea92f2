// Component tests' page: the real console views bundled with an in-memory cluster
// (fixture/entry.tsx), opened in headless Chromium. No etcd, no server: a file:// page.
import { buildSync } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { PageHandle } from './fixture/handle';

const ROOT = resolve(__dirname, '..', '..', '..');
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let built: string | null = null;

/** Bundles the page once per process, as scripts/build-renderer.js bundles the console. */
function bundle(): string {
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), 'peppercorn-component-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  buildSync({
    entryPoints: { app: join(ROOT, 'test', 'component', 'fixture', 'entry.tsx') },
    bundle: true,
    outdir: dir,
    platform: 'browser',
    format: 'iife',
    target: ['chrome120'],
    jsx: 'automatic',
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  writeFileSync(
    join(dir, 'index.html'),
    '<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="app.css"></head>' +
      '<body><div id="root"></div><script src="app.js"></script></body></html>',
  );
  return (built = dir);
}

export interface ConsolePage {
  browser: Browser;
  page: Page;
  /** Uncaught errors in the page; close() fails when there are any. */
  errors: string[];
  close(): Promise<void>;
}

export async function openConsole(
  opts: { hash?: string; defer?: boolean; width?: number; height?: number } = {},
): Promise<ConsolePage> {
  const dir = bundle();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  const page = await browser.newPage({ viewport: { width: opts.width ?? 1400, height: opts.height ?? 860 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`file://${dir}/index.html${opts.defer ? '?defer' : ''}#${opts.hash ?? '/overview'}`);
  await page.waitForFunction('globalThis.pc !== undefined');
  return {
    browser,
    page,
    errors,
    async close() {
      await browser.close();
      if (errors.length) throw new Error(`errors in the page: ${errors.join('; ')}`);
    },
  };
}

/**
 * Runs `fn(pc, arg)` in the page. `fn` is sent as source text: it may use only its
 * parameters (no imports, no closures); `arg` must be JSON.
 */
export function inPage<A, R>(page: Page, fn: (pc: PageHandle, arg: A) => R, arg?: A): Promise<Awaited<R>> {
  return page.evaluate(`(${fn.toString()})(globalThis.pc, ${JSON.stringify(arg ?? null)})`) as Promise<
    Awaited<R>
  >;
}

/** Mounts a screen afresh (through another one), as a person following a link would. */
export async function show(page: Page, hash: string): Promise<void> {
  await page.evaluate(`location.hash = '#/connections'`);
  await page.locator('[data-testid="nav-connections"].active').waitFor();
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
}
