// Options of connect() and of the CLI, checked with the C++ agent's rules
// (docs/configuration.md): edges, identity values, credentials, proxy.
import { parseProxyUrl, noProxyMatches } from './dial.js';

const IDENTITY = /^[A-Za-z0-9._-]{1,63}$/;

export class UsageError extends Error {}

// "host:port" or "[v6]:port".
export function parseEdge(text) {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : 0;
  if (!match || port < 1 || port > 65535) {
    throw new UsageError(`--edge: invalid edge address "${text}": expected HOST:PORT`);
  }
  return { host: match[1] ?? match[2], port };
}

// The proxy as the C++ agent chooses it: `proxy` (a URL, or "" for none),
// else https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY; NO_PROXY per edge.
function chooseProxy(proxy, env) {
  let source = 'proxy';
  let text = proxy;
  if (text === undefined || text === null) {
    for (const name of ['https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY']) {
      if (env[name] !== undefined) {
        source = name;
        text = env[name];
        break;
      }
    }
  }
  if (!text) return { url: null, source };
  try {
    return { url: parseProxyUrl(text), source };
  } catch (error) {
    throw new UsageError(`${source}: ${error.message}`);
  }
}

// Normalized options for Tunnel: edges with their proxy, identity, the
// Authorization value. Throws UsageError.
export function normalizeOptions(input, env = process.env) {
  const edges = (Array.isArray(input.edge) ? input.edge : [input.edge]).filter(Boolean);
  if (edges.length === 0) throw new UsageError('--edge: required');
  if (!input.tunnel) throw new UsageError('--tunnel: required');
  for (const [key, value] of [['tunnel', input.tunnel], ['node', input.node],
                              ['cluster', input.cluster], ['tenant', input.tenant]]) {
    if (value !== undefined && !IDENTITY.test(value)) {
      throw new UsageError(`--${key}: must be 1-63 characters of [A-Za-z0-9._-]`);
    }
  }
  const connections = input.connections ?? 2;
  if (!Number.isInteger(connections) || connections < 1 || connections > 64) {
    throw new UsageError('--connections: must be 1-64');
  }
  const pollRequests = { next: input.pollNextRequests ?? 2, send: input.pollSendRequests ?? 2 };
  for (const [flag, value] of [['poll-next-requests', pollRequests.next], ['poll-send-requests', pollRequests.send]]) {
    if (!Number.isInteger(value) || value < 1 || value > 16) throw new UsageError(`--${flag}: must be 1-16`);
  }
  const transport = input.transport ?? 'h2';
  if (!['h2', 'poll', 'auto'].includes(transport)) {
    throw new UsageError(`--transport: expected h2, poll or auto (h2, else poll), got "${transport}"`);
  }
  if (input.token && input.user) throw new UsageError('--user: --token and --user are mutually exclusive');
  let authorization;
  if (input.user) {
    if (!input.password) throw new UsageError('--user: no password: give --password-file or DIALBACK_PASSWORD');
    authorization = `Basic ${Buffer.from(`${input.user}:${input.password}`).toString('base64')}`;
  } else if (input.token) {
    authorization = `Bearer ${input.token}`;
  } else if (!input.cert) {
    throw new UsageError('--token: no credential: give --token, --token-file, DIALBACK_TOKEN, --user with a password, or --cert/--key for mTLS');
  }
  if (Boolean(input.cert) !== Boolean(input.key)) throw new UsageError('--cert: --cert and --key go together');
  const proxy = chooseProxy(input.proxy, env);
  const noProxy = env.no_proxy ?? env.NO_PROXY ?? '';
  return {
    tunnel: input.tunnel,
    node: input.node,
    cluster: input.cluster,
    tenant: input.tenant,
    labels: input.labels,
    authorization,
    ca: input.ca,
    cert: input.cert,
    key: input.key,
    connections,
    transport,
    pollRequests,
    probeIntervalMs: input.probeIntervalMs,
    drainTimeoutMs: input.drainTimeoutMs,
    pingIntervalMs: input.pingIntervalMs,
    pingTimeoutMs: input.pingTimeoutMs,
    log: input.log,
    upstream: input.upstream,
    timeouts: input.timeouts,
    proxySource: proxy.source,
    edges: edges.map((text) => {
      const edge = typeof text === 'string' ? parseEdge(text) : { ...text };
      edge.serverName = input.serverName;
      edge.proxy = proxy.url && !noProxyMatches(noProxy, edge.host) ? proxy.url : null;
      return edge;
    }),
  };
}
