import http from 'node:http';
import { forward, listenOnLoopback, readBody } from './http.js';

/**
 * A test-only HTTP proxy in front of moto that counts requests by Query API action and can rewrite
 * answers. The audit tests use it to count IAM calls per source, and to give moto's credential report the
 * generation time it lacks (moto always answers GeneratedTime 2015-02-02T20:02:02Z).
 */
export interface RecordingProxy {
  endpoint: string;
  /** Requests seen per action since the last reset. */
  counts(): Record<string, number>;
  reset(): void;
  stop(): Promise<void>;
}

export type Rewrite = (action: string, body: string) => string;

export async function startRecordingProxy(target: string, rewrite?: Rewrite): Promise<RecordingProxy> {
  const upstream = new URL(target);
  let counts: Record<string, number> = {};
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const body = await readBody(req);
    const action = new URLSearchParams(body.toString('utf8')).get('Action') ?? 'Unknown';
    counts[action] = (counts[action] ?? 0) + 1;
    const answer = await forward(upstream, req, body);
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
    reset: () => {
      counts = {};
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
