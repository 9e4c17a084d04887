import http from 'node:http';
import { forward, listenOnLoopback, readBody } from './http.js';

/**
 * A test-only HTTP proxy in front of moto that counts requests by action (the Query API's `Action`, the JSON
 * protocol's `X-Amz-Target`) and can rewrite answers. The audit tests use it to count IAM calls per source,
 * and to give moto's credential report the generation time it lacks (moto always answers GeneratedTime
 * 2015-02-02T20:02:02Z); the organisation benchmark also reads how long moto took per action and which
 * requests the SDK sent again.
 */
export interface RecordingProxy {
  endpoint: string;
  /** Requests seen per action since the last reset. */
  counts(): Record<string, number>;
  /** Per action since the last reset: how the answers went (the benchmark reports lost ones: the SDK sends those requests again). */
  timings(): Record<string, ActionTiming>;
  reset(): void;
  stop(): Promise<void>;
}

export interface ActionTiming {
  /** moto's slowest answer, from the proxy's side. */
  maxMs: number;
  /**
   * Requests the SDK sent again (its header `amz-sdk-request: attempt=N`, N > 1): after a lost answer, a timeout,
   * a throttling or a 5xx (`retryableAnswers`, `clientClosed` say which).
   */
  retried: number;
  /** Requests whose forwarding to moto failed (moto closed or reset the connection), by error code: the client's connection is then closed unanswered. */
  upstreamErrors: Record<string, number>;
  /** moto's answers with a 5xx status or a throttling error, by `status code` (the SDK sends those requests again). */
  retryableAnswers: Record<string, number>;
  /** Requests whose client closed the connection before the answer was written (the SDK gave up on it: a timeout). */
  clientClosed: number;
}

export type Rewrite = (action: string, body: string) => string;

export async function startRecordingProxy(target: string, rewrite?: Rewrite): Promise<RecordingProxy> {
  const upstream = new URL(target);
  let counts: Record<string, number> = {};
  let timings: Record<string, ActionTiming> = {};
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const body = await readBody(req);
    const target = req.headers['x-amz-target'];
    const action = typeof target === 'string' ? (target.split('.').pop() ?? 'Unknown') : (new URLSearchParams(body.toString('utf8')).get('Action') ?? 'Unknown');
    counts[action] = (counts[action] ?? 0) + 1;
    const timing = (timings[action] ??= { maxMs: 0, retried: 0, upstreamErrors: {}, retryableAnswers: {}, clientClosed: 0 });
    if (Number(/attempt=(\d+)/.exec(String(req.headers['amz-sdk-request'] ?? ''))?.[1] ?? 1) > 1) timing.retried += 1;
    const started = Date.now();
    res.on('close', () => {
      if (!res.writableFinished) timing.clientClosed += 1;
    });
    let answer;
    try {
      answer = await forward(upstream, req, body);
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'Error';
      timing.upstreamErrors[code] = (timing.upstreamErrors[code] ?? 0) + 1;
      throw error;
    }
    timing.maxMs = Math.max(timing.maxMs, Date.now() - started);
    const text = answer.body.toString('utf8');
    const errorCode = /<Code>([^<]+)<\/Code>|"__type"\s*:\s*"(?:[^"#]*#)?([^"]+)"/.exec(text)?.slice(1).find(Boolean) ?? '';
    if (answer.status >= 500 || /Throttl/.test(errorCode)) {
      const key = `${answer.status} ${errorCode}`.trim();
      timing.retryableAnswers[key] = (timing.retryableAnswers[key] ?? 0) + 1;
    }
    const payload = rewrite ? Buffer.from(rewrite(action, answer.body.toString('utf8')), 'utf8') : answer.body;
    const headers = { ...answer.headers, 'content-length': String(payload.length) };
    delete headers['transfer-encoding'];
    res.writeHead(answer.status, headers).end(payload);
  };
  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  const listening = await listenOnLoopback(server);
  return {
    endpoint: listening.endpoint,
    counts: () => ({ ...counts }),
    timings: () => structuredClone(timings),
    reset: () => {
      counts = {};
      timings = {};
    },
    stop: () => listening.close(),
  };
}

/** Makes moto's credential report look generated at `at` (by default: when it is fetched). */
export function freshReportRewrite(at?: () => Date): Rewrite {
  return (action, body) =>
    action === 'GetCredentialReport'
      ? body.replace(/<GeneratedTime>[^<]*<\/GeneratedTime>/, `<GeneratedTime>${(at?.() ?? new Date()).toISOString()}</GeneratedTime>`)
      : body;
}
