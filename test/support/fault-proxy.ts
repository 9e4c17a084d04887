import http from 'node:http';
import { forward, listenOnLoopback, readBody } from './http.js';

/**
 * A test-only HTTP proxy between aws-rekey and moto that adds what moto never does: errors, throttling,
 * lost connections, lost responses, stalls, latency, and the propagation delay of new keys.
 * The CLI reaches it as its endpoint (AWS_ENDPOINT_URL); IAM and STS share it, as they share moto.
 */

export type Fault =
  /** Answer with an AWS error without forwarding. */
  | { kind: 'error'; status: number; code: string; message?: string }
  /** Close the connection without forwarding: the request never reached AWS. */
  | { kind: 'drop' }
  /** Forward the request, then close the connection instead of answering: it happened, but nobody knows. */
  | { kind: 'drop-response' }
  /** Never answer (until the proxy stops). */
  | { kind: 'stall' }
  /** Forward the request, then never answer (until the proxy stops): it happened, and the caller hangs. */
  | { kind: 'stall-response' }
  /** Answer with this body instead of forwarding. */
  | { kind: 'respond'; status: number; body: string };

export interface FaultRule {
  /** The action (`CreateAccessKey`, `GetCallerIdentity`, `PutSecretValue`, …); undefined matches every action. */
  action?: string;
  fault: Fault;
  /** Apply to this many matching requests, then stop (default: every one). */
  times?: number;
  /** Skip this many matching requests before applying. */
  after?: number;
  /** Only for requests signed with this access key id. */
  accessKeyId?: string;
  /** true: only requests signed with a key created through this proxy (a new key); false: only the others. */
  newKey?: boolean;
}

export interface RequestLogEntry {
  action: string;
  accessKeyId: string;
  /** The request's Query API parameters (Action, UserName, SerialNumber, …). */
  params: Record<string, string>;
  status: number | 'dropped' | 'stalled';
  startedAt: number;
  endedAt: number;
}

export interface FaultProxy {
  endpoint: string;
  /** Replace the rules. */
  setRules(rules: FaultRule[]): void;
  /** Keys younger than this (created through the proxy) get InvalidClientTokenId, as on AWS while they propagate. */
  setNewKeyDelay(ms: number): void;
  /** Added before every request is forwarded. */
  setLatency(ms: number): void;
  /** Called once per matching request, before forwarding: lets a test act at a precise moment (e.g. SIGKILL). */
  onRequest(action: string, hook: () => void | Promise<void>): void;
  /** Called once per matching request after its answer was sent in full (not for dropped or stalled ones). */
  onResponse(action: string, hook: (status: number) => void | Promise<void>): void;
  log: RequestLogEntry[];
  stop(): Promise<void>;
}

const QUERY_NS: Record<string, string> = {
  GetCallerIdentity: 'https://sts.amazonaws.com/doc/2011-06-15/',
  GetSessionToken: 'https://sts.amazonaws.com/doc/2011-06-15/',
  AssumeRole: 'https://sts.amazonaws.com/doc/2011-06-15/',
};

export function errorBody(action: string, code: string, message: string): string {
  const ns = QUERY_NS[action] ?? 'https://iam.amazonaws.com/doc/2010-05-08/';
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<ErrorResponse xmlns="${ns}"><Error><Type>Sender</Type><Code>${escape(code)}</Code><Message>${escape(message)}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>`;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let rules: Array<FaultRule & { seen: number; applied: number }> = [];
  let newKeyDelayMs = 0;
  let latencyMs = 0;
  const hooks = new Map<string, Array<() => void | Promise<void>>>();
  const responseHooks = new Map<string, Array<(status: number) => void | Promise<void>>>();
  const keyBirth = new Map<string, number>();
  const log: RequestLogEntry[] = [];
  const stalled = new Set<http.ServerResponse>();

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const startedAt = Date.now();
    const body = await readBody(req);
    // The Query protocol (IAM, STS) names the action in the body; the JSON one (Secrets Manager, SSM) in X-Amz-Target.
    const target = req.headers['x-amz-target'];
    const json = typeof target === 'string';
    const params = json ? new URLSearchParams() : new URLSearchParams(body.toString('utf8'));
    const action = json ? (target.split('.').pop() ?? 'Unknown') : (params.get('Action') ?? 'Unknown');
    const accessKeyId = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const entry: RequestLogEntry = { action, accessKeyId, params: Object.fromEntries(params), status: 0, startedAt, endedAt: 0 };
    log.push(entry);
    const finish = (status: RequestLogEntry['status']) => {
      entry.status = status;
      entry.endedAt = Date.now();
    };

    for (const hook of hooks.get(action) ?? []) await hook();
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));

    const born = keyBirth.get(accessKeyId);
    if (born !== undefined && Date.now() - born < newKeyDelayMs) {
      res.writeHead(403, { 'content-type': 'text/xml' }).end(errorBody(action, 'InvalidClientTokenId', 'The security token included in the request is invalid.'));
      return finish(403);
    }

    const rule = rules.find((r) => {
      if (r.action !== undefined && r.action !== action) return false;
      if (r.accessKeyId !== undefined && r.accessKeyId !== accessKeyId) return false;
      if (r.newKey !== undefined && r.newKey !== keyBirth.has(accessKeyId)) return false;
      r.seen += 1;
      if (r.seen <= (r.after ?? 0)) return false;
      return r.times === undefined || r.applied < r.times;
    });
    if (rule) rule.applied += 1;
    const fault = rule?.fault;

    if (fault?.kind === 'error') {
      const message = fault.message ?? `${fault.code} injected by the fault proxy`;
      if (json) res.writeHead(fault.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': fault.code }).end(JSON.stringify({ __type: fault.code, message }));
      else res.writeHead(fault.status, { 'content-type': 'text/xml' }).end(errorBody(action, fault.code, message));
      return finish(fault.status);
    }
    if (fault?.kind === 'respond') {
      res.writeHead(fault.status, { 'content-type': 'text/xml' }).end(fault.body);
      return finish(fault.status);
    }
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return finish('dropped');
    }
    if (fault?.kind === 'stall') {
      stalled.add(res);
      return finish('stalled');
    }

    const answer = await forward(upstream, req, body);
    if (action === 'CreateAccessKey' && answer.status === 200) {
      const created = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(answer.body.toString('utf8'))?.[1];
      if (created) keyBirth.set(created, Date.now());
    }
    if (fault?.kind === 'drop-response') {
      req.socket.destroy();
      return finish('dropped');
    }
    if (fault?.kind === 'stall-response') {
      stalled.add(res);
      return finish('stalled');
    }
    const headers = { ...answer.headers, 'content-length': String(answer.body.length) };
    delete headers['transfer-encoding'];
    res.writeHead(answer.status, headers);
    await new Promise<void>((resolve) => res.end(answer.body, resolve));
    finish(answer.status);
    for (const hook of responseHooks.get(action) ?? []) await hook(answer.status);
  };

  const server = http.createServer((req, res) => {
    // A failure of the proxy itself (moto unreachable, a hook that throws) must not crash the test run.
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else res.writeHead(502, { 'content-type': 'text/plain' }).end(`fault proxy: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  const listening = await listenOnLoopback(server);

  return {
    endpoint: listening.endpoint,
    log,
    setRules: (next) => {
      rules = next.map((r) => ({ ...r, seen: 0, applied: 0 }));
    },
    setNewKeyDelay: (ms) => {
      newKeyDelayMs = ms;
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    onRequest: (action, hook) => {
      hooks.set(action, [...(hooks.get(action) ?? []), hook]);
    },
    onResponse: (action, hook) => {
      responseHooks.set(action, [...(responseHooks.get(action) ?? []), hook]);
    },
    stop: async () => {
      for (const res of stalled) res.destroy();
      await listening.close();
    },
  };
}
