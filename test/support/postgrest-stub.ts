import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the stub saw it. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

/** The stub's answer: status and JSON body. */
export type StubAnswer = { status: number; body?: unknown; headers?: Record<string, string> };

/**
 * A local HTTP endpoint that speaks enough of PostgREST's wire format for
 * supabase-js, and records every request so tests can check what the SDK sent.
 * (No PostgREST binary is available here; the database behind it is covered by
 * the pgTAP tests and the node-postgres tests.)
 */
export async function startPostgrestStub(answer: (request: RecordedRequest) => StubAnswer): Promise<{
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stub');
      const text = Buffer.concat(chunks).toString('utf8');
      const request: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: text === '' ? undefined : JSON.parse(text),
      };
      requests.push(request);
      const reply = answer(request);
      res.writeHead(reply.status, { 'content-type': 'application/json', 'access-control-allow-origin': '*', ...reply.headers });
      res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
