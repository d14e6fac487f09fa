// Test harness: the real `dialback edge` binary (env DIALBACK), with its own
// PKI and token in a temporary directory, and helpers to wait with deadlines.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = path.join(PACKAGE_DIR, 'bin', 'dialback-agent.js');
const DIALBACK = process.env.DIALBACK ?? path.resolve(PACKAGE_DIR, '../../build/apps/dialback/dialback');

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Polls `check` (sync or async, truthy when done) every 20 ms until `ms` pass.
export async function eventually(check, ms = 15000, what = 'condition') {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what} not reached within ${ms} ms${last ? `: ${last.message}` : ''}`);
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

// Starts an edge with tunnel "web" (host app.test) and a fresh token.
export async function startEdge() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dialback-node-'));
  const run = (...args) => execFileSync(DIALBACK, args, { cwd: dir, encoding: 'utf8' }).trim();
  run('pki', 'init', '--dir', 'pki');
  run('pki', 'issue', '--dir', 'pki', '--name', 'edge', '--dns', 'localhost', '--server');
  const token = run('token', 'new');
  const hash = run('token', 'hash', token);
  const agentsPort = await freePort();
  const publicPort = await freePort();
  writeFileSync(path.join(dir, 'edge.yaml'), `edge: {id: edge-node-test, drain_timeout: 5s}
agents: {listen: 127.0.0.1:${agentsPort}, cert: pki/edge.crt, key: pki/edge.key}
public: {http: 127.0.0.1:${publicPort}}
tunnels:
  web: {hosts: [app.test], auth: {tokens: ["${hash}"]}}
`);
  let log = '';
  let edge;
  const launch = async () => {
    edge = spawn(DIALBACK, ['edge', '--config', 'edge.yaml'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    edge.stderr.on('data', (d) => { log += d; });
    await eventually(() => canConnect(agentsPort), 15000, 'edge listening');
  };
  const kill = async () => {
    if (edge.exitCode === null && edge.signalCode === null) {
      edge.kill('SIGKILL');
      await new Promise((r) => edge.once('exit', r));
    }
  };
  await launch();
  return {
    dir, token, agentsPort, publicPort,
    ca: path.join(dir, 'pki', 'ca.crt'),
    edgeAddress: `127.0.0.1:${agentsPort}`,
    log: () => log,
    // SIGKILL, then the same edge again on the same ports.
    async restart() {
      await kill();
      await launch();
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Spawns the CLI (or `command`) and collects its stderr.
export function spawnAgent(args, { command = process.execPath, prefix = [CLI], env = process.env, cwd } = {}) {
  const child = spawn(command, [...prefix, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const agent = { child, stderr: '', stdout: '' };
  child.stderr.on('data', (d) => { agent.stderr += d; });
  child.stdout.on('data', (d) => { agent.stdout += d; });
  agent.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  agent.stop = async (signal = 'SIGTERM') => {
    if (child.exitCode === null) child.kill(signal);
    return agent.exited;
  };
  return agent;
}

// nginx in front of the edge's agent port, passing HTTP/1.1 only
// (proxy_http_version 1.1, buffering at its defaults): the middlebox that
// breaks the h2 upgrade. Resolves { port, stop() }.
export async function startHttp11Proxy(edge) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dialback-nginx-'));
  const port = await freePort();
  writeFileSync(path.join(dir, 'nginx.conf'), `user root;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  upstream edge { server 127.0.0.1:${edge.agentsPort}; keepalive 8; }
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${edge.dir}/pki/edge.crt;
    ssl_certificate_key ${edge.dir}/pki/edge.key;
    client_max_body_size 2m;
    location / {
      proxy_pass https://edge;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_ssl_server_name on;
      proxy_ssl_name localhost;
      proxy_ssl_trusted_certificate ${edge.ca};
      proxy_ssl_verify on;
    }
  }
}
`);
  const nginx = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'],
                      { stdio: 'ignore' });
  await eventually(() => canConnect(port), 15000, 'nginx listening');
  return {
    port,
    async stop() {
      if (nginx.exitCode === null && nginx.signalCode === null) {
        nginx.kill('SIGKILL');
        await new Promise((r) => nginx.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
