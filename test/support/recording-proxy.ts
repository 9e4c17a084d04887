import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

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
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const action = new URLSearchParams(body.toString('utf8')).get('Action') ?? 'Unknown';
      counts[action] = (counts[action] ?? 0) + 1;
      const out = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host, 'content-length': String(body.length) },
        },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (c: Buffer) => parts.push(c));
          answer.on('end', () => {
            let payload = Buffer.concat(parts);
            if (rewrite) payload = Buffer.from(rewrite(action, payload.toString('utf8')), 'utf8');
            const headers = { ...answer.headers, 'content-length': String(payload.length) };
            delete headers['transfer-encoding'];
            res.writeHead(answer.statusCode ?? 502, headers).end(payload);
          });
        },
      );
      out.on('error', () => res.destroy());
      out.end(body);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    reset: () => {
      counts = {};
    },
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Makes moto's credential report look generated at `at` (by default: when it is fetched). */
export function freshReportRewrite(at?: () => Date): Rewrite {
  return (action, body) =>
    action === 'GetCredentialReport'
      ? body.replace(/<GeneratedTime>[^<]*<\/GeneratedTime>/, `<GeneratedTime>${(at?.() ?? new Date()).toISOString()}</GeneratedTime>`)
      : body;
}
