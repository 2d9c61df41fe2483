import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Database } from '../../src/node/db/database.ts';
import { toDatabaseError } from '../../src/node/db/database.ts';

/**
 * PostgREST's insert path in front of a real database, for supabase-js: a POST to
 * /rest/v1/<table> runs, as the `anon` role, the statement PostgREST runs for
 * `Prefer: return=minimal` (the columns supabase-js names in `columns`, the body
 * through json_populate_recordset, one statement), and answers an error as
 * PostgREST does: the SQLSTATE in `code`, 409 for unique and foreign-key
 * violations, 400 for other integrity and data errors, 401 for a privilege
 * (no PostgREST binary is available on this machine; the database is real).
 */
/** The statement PostgREST runs for an insert with `Prefer: return=minimal`: the named columns of a JSON array body ($1). */
export function postgrestInsertSql(table: string, columns: readonly string[]): string {
  const list = columns.map((c) => `"${c}"`).join(', ');
  return `INSERT INTO public."${table}" (${list}) SELECT ${list} FROM json_populate_recordset(NULL::public."${table}", $1::json)`;
}

export async function startPostgrestInsert(db: Database): Promise<{
  url: string;
  /** Requests by status, in order. */
  statuses: number[];
  /** Makes the next request insert, commit and then answer 503, as a reply lost on the way back. */
  loseNextReply(): void;
  close(): Promise<void>;
}> {
  const statuses: number[] = [];
  let loseReply = false;
  const answer = async (req: http.IncomingMessage, body: string): Promise<{ status: number; body?: unknown }> => {
    const url = new URL(req.url ?? '/', 'http://local');
    const table = /^\/rest\/v1\/([a-z_]+)$/.exec(url.pathname)?.[1];
    if (req.method !== 'POST' || table === undefined) return { status: 404, body: { message: 'not found' } };
    const columns = (url.searchParams.get('columns') ?? '').split(',').map((c) => c.replace(/"/g, '')).filter((c) => /^[a-z_]+$/.test(c));
    if (columns.length === 0) return { status: 400, body: { message: 'the stub needs ?columns=' } };
    try {
      await db.transaction(async (tx) => {
        await tx.query('SET LOCAL ROLE anon');
        await tx.query(postgrestInsertSql(table, columns), [body]);
      });
    } catch (error) {
      const failure = toDatabaseError(error);
      const code = failure.code ?? '';
      const status = code === '23505' || code === '23503' ? 409 : code.startsWith('23') || code.startsWith('22') ? 400 : code === '42501' ? 401 : 500;
      return { status, body: { code, message: failure.message, details: failure.detail ?? null, hint: failure.hint ?? null } };
    }
    if (loseReply) {
      loseReply = false;
      return { status: 503, body: { message: 'Service Unavailable' } };
    }
    return { status: 201 };
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void answer(req, Buffer.concat(chunks).toString('utf8')).then((reply) => {
        statuses.push(reply.status);
        res.writeHead(reply.status, { 'content-type': 'application/json' });
        res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    statuses,
    loseNextReply: () => {
      loseReply = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
