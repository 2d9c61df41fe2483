import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '@supabase/supabase-js';
import { createSlugResolver } from '../../src/core/slug-resolver.ts';
import { createSupabaseSlugSource } from '../../src/core/slug-source.ts';
import { submitJob } from '../../src/core/submit-job.ts';
import { classifyPostgrestResult, createSupabaseAnalyticsSink, withKeepalive } from '../../src/core/supabase-analytics-sink.ts';
import { createUuidLookupLogger } from '../../src/core/uuid-lookup-logger.ts';
import type { RecordedRequest, StubAnswer } from '../support/postgrest-stub.ts';
import { startPostgrestStub } from '../support/postgrest-stub.ts';
import { createTestMeter } from '../support/metric-collection.ts';

// supabase-js against a local endpoint that checks the PostgREST requests it
// receives; no PostgREST binary is available on this machine.
const ANON_KEY = 'test-anon-key';
const UUID = '3f0d4f7e-8a4b-4c55-9a51-1d2b6c7e8f90';

describe('supabase-js sink, resolver and job submission', () => {
  let stub: Awaited<ReturnType<typeof startPostgrestStub>> | undefined;
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });

  const start = async (answer: (r: RecordedRequest) => StubAnswer) => {
    stub = await startPostgrestStub(answer);
    return createClient(stub.url, ANON_KEY, { auth: { persistSession: false, autoRefreshToken: false } });
  };

  it('inserts a batch with return=minimal (no SELECT needed) and the contract\'s columns', async () => {
    const client = await start(() => ({ status: 201 }));
    const logger = createUuidLookupLogger({ meter: createTestMeter().provider.getMeter('t'), sink: createSupabaseAnalyticsSink({ client }) });
    logger.logSuccess('wall-painting', UUID, 25, false);
    logger.logFailure('unknown-service', 15, 'Service not found');
    await logger.flush();
    const [request] = stub!.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/rest/v1/analytics_events' });
    expect(request!.headers.apikey).toBe(ANON_KEY);
    // No representation asked back (PostgREST's default is return=minimal): no SELECT right needed.
    expect(String(request!.headers.prefer ?? '')).not.toContain('return=representation');
    expect(request!.query.get('select')).toBeNull();
    const rows = request!.body as Record<string, unknown>[];
    expect(rows).toHaveLength(2);
    // PostgREST inserts the union of the keys: every row must carry the same ones.
    expect(Object.keys(rows[0]!).sort()).toEqual(['client_created_at', 'event_category', 'event_name', 'event_properties', 'id']);
    expect(rows[1]).toMatchObject({ event_name: 'uuid_lookup', event_properties: { success: false, error_message: 'Service not found' } });
  });

  it('retries a 503 and isolates a row the database refuses (23514), landing the rest once', async () => {
    let calls = 0;
    const landed = new Set<string>();
    const client = await start((request) => {
      calls += 1;
      if (calls === 1) return { status: 503, body: { message: 'Service Unavailable' } };
      const rows = request.body as { id: string; event_properties: { micro_slug: string } }[];
      if (rows.some((r) => r.event_properties.micro_slug === 'bad')) {
        return { status: 400, body: { code: '23514', message: 'new row violates check constraint', details: null, hint: null } };
      }
      for (const row of rows) landed.add(row.id);
      return { status: 201 };
    });
    const logger = createUuidLookupLogger({
      meter: createTestMeter().provider.getMeter('t'),
      sink: createSupabaseAnalyticsSink({ client }),
      initialRetryDelayMillis: 1,
      maxRetryDelayMillis: 5,
    });
    for (let i = 0; i < 4; i += 1) logger.logSuccess('wall-painting', UUID, 10);
    logger.logFailure('bad', 10, 'x');
    await logger.flush(); // first attempt: 503
    // The last good row lands (server side) before the refused one is tried alone: wait for both.
    await vi.waitFor(() => {
      expect(landed.size).toBe(4);
      expect(logger.getDroppedCounts().rejected).toBe(1);
    }, { timeout: 2000 });
  });

  it('classifies PostgREST answers by code, never by message', () => {
    expect(classifyPostgrestResult(null, 201).status).toBe('success');
    expect(classifyPostgrestResult({ code: '23514', message: 'x' }, 400).status).toBe('rejected');
    expect(classifyPostgrestResult({ code: '42501', message: 'x' }, 401).status).toBe('rejected');
    expect(classifyPostgrestResult({ code: '22P02', message: 'x' }, 400).status).toBe('rejected');
    expect(classifyPostgrestResult({ code: '23505', message: 'x' }, 409).status).toBe('conflict');
    expect(classifyPostgrestResult({ code: 'PGRST204', message: 'x' }, 400).status).toBe('retryable');
    expect(classifyPostgrestResult({ message: 'TypeError: fetch failed' }, 0).status).toBe('retryable');
    expect(classifyPostgrestResult({ code: '57014', message: 'canceling statement' }, 500).status).toBe('retryable');
  });

  it('resolves slugs with one in.() query and submits the job with slug and UUID', async () => {
    const client = await start((request) => {
      if (request.path === '/rest/v1/micro_services') {
        expect(request.query.get('select')).toBe('id,slug');
        expect(request.query.get('slug')).toBe('in.(wall-painting,tiling)');
        return { status: 200, body: [{ id: UUID, slug: 'wall-painting' }] };
      }
      return { status: 201 };
    });
    const logger = createUuidLookupLogger({ meter: createTestMeter().provider.getMeter('t') });
    const resolver = createSlugResolver({ source: createSupabaseSlugSource(client), logger });
    expect(await resolver.resolveMany(['wall-painting', 'tiling'])).toEqual(new Map([['wall-painting', UUID], ['tiling', null]]));
    const result = await submitJob({ client, resolver, microSlug: 'wall-painting', fields: { title: 'Paint the hall' }, sessionId: 's-1' });
    expect(result).toEqual({ microUuid: UUID, error: null });
    const insert = stub!.requests.find((r) => r.path === '/rest/v1/jobs');
    expect(insert?.body).toEqual({ title: 'Paint the hall', micro_id: 'wall-painting', micro_uuid: UUID, session_id: 's-1' });
    expect(stub!.requests.filter((r) => r.path === '/rest/v1/micro_services')).toHaveLength(1);
  });

  it('withKeepalive sets keepalive on small text bodies only', async () => {
    const seen: (boolean | undefined)[] = [];
    const fake = (async (_input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(init?.keepalive);
      return new Response(null, { status: 201 });
    }) as typeof fetch;
    const wrapped = withKeepalive(fake);
    await wrapped('http://x', { method: 'POST', body: '[]' });
    await wrapped('http://x', { method: 'POST', body: 'x'.repeat(70 * 1024) });
    await wrapped('http://x');
    expect(seen).toEqual([true, undefined, undefined]);
  });
});
