#!/usr/bin/env node
// dialback-agent --edge HOST:PORT --tunnel NAME --token T [--ca FILE] URL
// The flags, environment variables and exit codes of `dialback agent`
// where they apply: 0 after a clean drain, 1 failure (or a 400 from the
// edge), 2 usage, 3 the edge refused the credentials or the tunnel.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Tunnel, UsageError } from '../lib/index.js';
import { normalizeOptions } from '../lib/options.js';

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
const EXIT_AUTH_REFUSED = 3;

const HELP = `Usage: dialback-agent --edge HOST:PORT --tunnel NAME [options] URL_OF_LOCAL_SERVICE

Serves the local service (e.g. http://127.0.0.1:3000) through a dialback edge.

  --edge HOST:PORT        edge agent listener; repeatable
  --tunnel NAME           tunnel name configured on the edge
  --token T               bearer token (or env DIALBACK_TOKEN)
  --token-file PATH       file holding the token
  --user NAME             HTTP Basic user instead of a token (password from
                          --password-file or env DIALBACK_PASSWORD)
  --password-file PATH    file holding the --user password
  --ca FILE               CA certificate to verify the edge (default: system roots)
  --cert FILE, --key FILE client certificate and key (mTLS)
  --server-name NAME      TLS name of the edges (default: each edge's host)
  --connections N         sessions per edge, 1-64 (default 2)
  --transport T           h2 (default), poll (HTTPS/1.1 long-poll) or auto (h2, else poll)
  --poll-next-requests N, --poll-send-requests N
                          poll: long-polls and sends in flight per session, 1-16 (default 2)
  --node, --cluster, --tenant NAME   identity (defaults: hostname-pid, the tunnel, default)
  --proxy URL             HTTP proxy, http://[user:password@]host[:port]
                          (default: env HTTPS_PROXY; NO_PROXY is honoured); "" for none
  --upstream URL          the local service (or as the last argument)
  --version, --help
`;

function log(level, message) {
  process.stderr.write(`${new Date().toISOString()} [${level}] agent: ${message}\n`);
}

function readSecret(path, flag) {
  try {
    const value = readFileSync(path, 'utf8').trim();
    if (!value) throw new Error('the file is empty');
    return value;
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${path}: ${error.message}`);
  }
}

function readPem(path, flag) {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${path}: ${error.message}`);
  }
}

function parseCommandLine(argv, env) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      edge: { type: 'string', multiple: true },
      tunnel: { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      user: { type: 'string' },
      'password-file': { type: 'string' },
      ca: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      'server-name': { type: 'string' },
      connections: { type: 'string' },
      transport: { type: 'string' },
      'poll-next-requests': { type: 'string' },
      'poll-send-requests': { type: 'string' },
      node: { type: 'string' },
      cluster: { type: 'string' },
      tenant: { type: 'string' },
      proxy: { type: 'string' },
      upstream: { type: 'string' },
      help: { type: 'boolean' },
      version: { type: 'boolean' },
    },
  });
  if (values.help || values.version) return values;
  const upstream = values.upstream ?? positionals[0];
  if (!upstream) throw new UsageError('URL: the local service URL is required (or --upstream)');
  if (positionals.length > (values.upstream ? 0 : 1)) {
    throw new UsageError(`unexpected argument "${positionals.at(-1)}"`);
  }
  let token = values.token;
  if (!token && values['token-file']) token = readSecret(values['token-file'], '--token-file');
  if (!token && !values.user) token = env.DIALBACK_TOKEN;
  let password;
  if (values.user) {
    password = values['password-file'] ? readSecret(values['password-file'], '--password-file')
                                       : env.DIALBACK_PASSWORD;
  }
  const number = (flag) => (values[flag] === undefined ? undefined : Number(values[flag]));
  const connections = number('connections');
  return {
    upstream,
    options: {
      edge: values.edge,
      tunnel: values.tunnel,
      token,
      user: values.user,
      password,
      ca: values.ca && readPem(values.ca, '--ca'),
      cert: values.cert && readPem(values.cert, '--cert'),
      key: values.key && readPem(values.key, '--key'),
      serverName: values['server-name'],
      connections,
      transport: values.transport,
      pollNextRequests: number('poll-next-requests'),
      pollSendRequests: number('poll-send-requests'),
      node: values.node,
      cluster: values.cluster,
      tenant: values.tenant,
      proxy: values.proxy,
      log,
    },
  };
}

async function main() {
  let parsed;
  let options;
  try {
    parsed = parseCommandLine(process.argv.slice(2), process.env);
    if (parsed.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (parsed.version) {
      process.stdout.write('dialback-agent 0.1.0\n');
      return 0;
    }
    options = normalizeOptions(parsed.options);
  } catch (error) {
    process.stderr.write(`dialback-agent: ${error.message}\n`);
    return EXIT_USAGE;
  }
  for (const edge of options.edges) {
    const where = `${edge.host}:${edge.port}`;
    if (edge.proxy) log('info', `edge ${where}: through the proxy ${edge.proxy.display} (${options.proxySource})`);
  }
  let tunnel;
  try {
    tunnel = new Tunnel({ ...options, upstream: parsed.upstream });
  } catch (error) {
    process.stderr.write(`dialback-agent: URL: ${error.message}\n`);
    return EXIT_USAGE;
  }
  log('info', `route / -> ${parsed.upstream}`);
  return await new Promise((resolve) => {
    let stopping = false;
    const stop = async () => {
      if (stopping) process.exit(EXIT_FAILURE);  // a second signal: no drain
      stopping = true;
      await tunnel.close();
      resolve(0);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    tunnel.on('fatal', (error) => {
      process.stderr.write(`dialback-agent: ${error.message}\n`);
      resolve(error.status === 400 ? EXIT_FAILURE : EXIT_AUTH_REFUSED);
    });
    tunnel.start().catch(() => {});  // a refusal: reported by 'fatal'
  });
}

process.exit(await main());
