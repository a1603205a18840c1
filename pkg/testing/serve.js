// A static file server on 127.0.0.1 for browser tests: serves `root`, records every request.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bpk': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
  '.svg': 'image/svg+xml',
};

/** Starts serving, with `headers` on every response; resolves to `{ url, requests, close }`. */
export async function serve(root, { index = '', headers = {} } = {}) {
  const requests = [];
  const server = createServer(async (request, response) => {
    requests.push(request.url);
    const path = decodeURIComponent(new URL(request.url, 'http://x').pathname);
    const file = join(root, normalize(path === '/' ? `/${index}` : path));
    try {
      const body = index === '' && path === '/' ? '<!doctype html><title>test</title>' : await readFile(file);
      response.writeHead(200, { ...headers, 'content-type': types[extname(file)] ?? 'text/html; charset=utf-8' });
      response.end(body);
    } catch {
      response.writeHead(404, headers).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Debian's Chromium, headless; `webgpu` allows WebGPU on its software adapter. */
export async function launchChromium({ webgpu = true } = {}) {
  const { chromium } = await import('playwright-core');
  const gpu = webgpu
    ? ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader']
    : ['--disable-gpu'];
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      ...gpu,
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}
