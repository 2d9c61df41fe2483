import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local HTTP endpoint that records the JSON bodies POSTed to it (a pager, a notification hook). */
export async function startJsonWebhook<T = Record<string, unknown>>(): Promise<{ url: string; received: T[]; close(): Promise<void> }> {
  const received: T[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body) as T);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
