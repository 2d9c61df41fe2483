import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A load balancer as a test needs one: every HTTP request (CORS preflights
 * included) goes to the next of `targets` in turn, so one tab's exports land on
 * different replicas.
 */
export async function startRoundRobinProxy(targets: string[]): Promise<{ url: string; forwarded: number[]; close(): Promise<void> }> {
  const forwarded = targets.map(() => 0);
  let next = 0;
  const server = http.createServer((req, res) => {
    const index = next;
    next = (next + 1) % targets.length;
    forwarded[index] = (forwarded[index] ?? 0) + 1;
    const target = new URL(req.url ?? '/', `http://${targets[index]}`);
    const upstream = http.request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwarded,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
