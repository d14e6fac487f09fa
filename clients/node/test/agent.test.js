// The Node agent against the real `dialback edge` and real local services,
// over h2 and poll, and behind real proxies (nginx, tinyproxy):
// the CLI and the library, bodies both ways, streaming, trailers,
// WebSocket, refusals, draining, and the packed tarball.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connect } from '../lib/index.js';
import { PACKAGE_DIR, eventually, freePort, spawnAgent, startEdge, startHttp11Proxy } from './harness.js';

const CHUNK = randomBytes(64 * 1024);
const sha256 = (data) => createHash('sha256').update(data).digest('hex');
let edge;
let service;
let servicePort;
let releaseSecondEvent;

// The local service behind the tunnel.
function startService() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://local');
    if (url.pathname === '/hello') {
      res.setHeader('x-local', 'yes');
      res.end(`hello ${req.method} ${req.url} host=${req.headers.host}`);
    } else if (url.pathname === '/big') {
      const chunks = Number(url.searchParams.get('chunks'));
      let sent = 0;
      const pump = () => {
        while (sent < chunks) {
          ++sent;
          if (!res.write(CHUNK)) return res.once('drain', pump);
        }
        res.end();
      };
      pump();
    } else if (url.pathname === '/echo-sha') {
      const hash = createHash('sha256');
      let length = 0;
      req.on('data', (d) => { hash.update(d); length += d.length; });
      req.on('end', () => res.end(JSON.stringify({ length, sha256: hash.digest('hex') })));
    } else if (url.pathname === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      releaseSecondEvent = () => res.end('data: two\n\n');
    } else if (url.pathname === '/trailers') {
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
      res.write('body with trailers');
      res.addTrailers({ 'x-checksum': 'abc123' });
      res.end();
    } else if (url.pathname === '/slow') {
      setTimeout(() => res.end('slow done'), 700);
    } else {
      res.statusCode = 404;
      res.end('no such page');
    }
  });
  server.on('upgrade', (req, socket, head) => {
    const accept = createHash('sha1')
      .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
                 `Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
    if (head.length) socket.write(head);
    socket.pipe(socket);  // echo; its end is a half-close back
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// One request to the edge's public port with Host app.test.
function publicRequest(pathname, { method = 'GET', body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: edge.publicPort, method, path: pathname,
                               headers: { host: 'app.test', ...headers }, agent: false });
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
                                    trailers: res.trailers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30000, () => req.destroy(new Error('public request timed out')));
    req.end(body);
  });
}

const agentArgs = (extra = []) => ['--edge', edge.edgeAddress, '--tunnel', 'web', '--token', edge.token,
                                   '--ca', edge.ca, '--server-name', 'localhost', '--connections', '1',
                                   ...extra, `http://127.0.0.1:${servicePort}`];
const tunnelUp = async () => (await publicRequest('/hello')).status === 200;

before(async () => {
  edge = await startEdge();
  service = await startService();
  servicePort = service.address().port;
});

after(async () => {
  service?.closeAllConnections?.();
  service?.close();
  await edge?.stop();
});

for (const transport of ['h2', 'poll']) test(`the CLI agent serves the local service over ${transport}`, { timeout: 60000 }, async (t) => {
  // poll with other than the default two `next` and two `send` requests.
  const flags = transport === 'poll' ? ['--poll-next-requests', '3', '--poll-send-requests', '1'] : [];
  const agent = spawnAgent(agentArgs(['--transport', transport, ...flags]));
  t.after(() => agent.stop('SIGKILL'));
  await eventually(tunnelUp, 15000, 'the tunnel answering');
  assert.match(agent.stderr, transport === 'poll'
    ? /session [0-9a-f]{32} connected to 127\.0\.0\.1:\d+ \(poll\) \(edge edge-node-test/
    : /session [0-9a-f]{32} connected to 127\.0\.0\.1:\d+ \(edge edge-node-test/);

  await t.test('a GET with the local service headers and the public Host', async () => {
    const res = await publicRequest('/hello?x=1');
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'hello GET /hello?x=1 host=app.test');
    assert.equal(res.headers['x-local'], 'yes');
  });

  await t.test('an unknown path is the local service 404', async () => {
    const res = await publicRequest('/missing');
    assert.equal(res.status, 404);
    assert.equal(res.body.toString(), 'no such page');
  });

  await t.test('32 MiB down and 32 MiB up arrive intact', async () => {
    const down = await publicRequest('/big?chunks=512');
    assert.equal(down.status, 200);
    assert.equal(down.body.length, 512 * CHUNK.length);
    assert.equal(sha256(down.body), sha256(Buffer.concat(Array(512).fill(CHUNK))));
    const upload = Buffer.concat(Array(512).fill(CHUNK));
    const up = await publicRequest('/echo-sha', { method: 'POST', body: upload });
    assert.deepEqual(JSON.parse(up.body), { length: upload.length, sha256: sha256(upload) });
  });

  await t.test('SSE: the first event arrives before the second is written', async () => {
    const first = await new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: edge.publicPort, path: '/sse',
                             headers: { host: 'app.test' }, agent: false }, (res) => {
        let text = '';
        let released = false;
        res.on('data', (d) => {
          text += d;
          if (!released && text.includes('data: one')) {
            if (text.includes('data: two')) reject(new Error('the second event came first'));
            released = true;
            releaseSecondEvent();
          }
        });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
    });
    assert.equal(first, 'data: one\n\ndata: two\n\n');
  });

  await t.test('response trailers reach a chunked HTTP/1.1 client', async () => {
    const res = await publicRequest('/trailers');
    assert.equal(res.body.toString(), 'body with trailers');
    assert.equal(res.trailers['x-checksum'], 'abc123');
  });

  await t.test('WebSocket: upgraded, bytes echoed both ways, half-close passed on', async () => {
    const echoed = await new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: edge.publicPort, path: '/ws', agent: false,
                                 headers: { host: 'app.test', connection: 'Upgrade', upgrade: 'websocket',
                                            'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
                                            'sec-websocket-version': '13' } });
      req.on('upgrade', (res, socket, head) => {
        assert.equal(res.statusCode, 101);
        assert.equal(res.headers['sec-websocket-accept'], 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
        let got = head.toString('latin1');
        socket.on('data', (d) => { got += d.toString('latin1'); });
        socket.on('end', () => resolve(got));  // the service's half-close came back
        socket.write('ping-1 ');
        socket.end('ping-2');
      });
      req.on('response', (res) => reject(new Error(`not upgraded: ${res.statusCode}`)));
      req.on('error', reject);
      req.end();
    });
    assert.equal(echoed, 'ping-1 ping-2');
  });

  await t.test('SIGTERM drains: an in-flight request finishes, then exit 0', async () => {
    const slow = publicRequest('/slow');
    await new Promise((r) => setTimeout(r, 200));  // the request is in flight at the agent
    const code = await agent.stop('SIGTERM');
    const res = await slow;
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'slow done');
    assert.equal(code, 0, agent.stderr);
  });
});

test('a wrong token: the CLI exits 3 with the edge refusal', { timeout: 30000 }, async () => {
  const args = agentArgs();
  args[args.indexOf(edge.token)] = 'dbt_wrong';
  const agent = spawnAgent(args);
  assert.equal(await agent.exited, 3, agent.stderr);
  assert.match(agent.stderr, /the edge refused the agent: 401 unauthorized/);
});

test('bad usage exits 2 naming the flag', { timeout: 30000 }, async () => {
  const missing = spawnAgent(['--edge', edge.edgeAddress, '--token', 'x', 'http://127.0.0.1:1']);
  assert.equal(await missing.exited, 2);
  assert.match(missing.stderr, /--tunnel: required/);
  const socks = spawnAgent(agentArgs(), { env: { ...process.env, HTTPS_PROXY: 'socks5://127.0.0.1:1080' } });
  assert.equal(await socks.exited, 2);
  assert.match(socks.stderr, /HTTPS_PROXY: invalid proxy URL: the scheme socks5:\/\/ is not supported/);
  const polls = spawnAgent(['--poll-send-requests', '17', ...agentArgs()]);
  assert.equal(await polls.exited, 2);
  assert.match(polls.stderr, /--poll-send-requests: must be 1-16/);
});

test('the library: connect() and serve() with node:http-shaped req and res', { timeout: 30000 }, async (t) => {
  const tunnel = await connect({ edge: edge.edgeAddress, tunnel: 'web', token: edge.token,
                                 ca: readFileSync(edge.ca), serverName: 'localhost', connections: 1 });
  t.after(() => tunnel.close(1000));
  tunnel.serve((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, host: req.headers[':authority'],
                               forwardedFor: req.headers['x-forwarded-for'], body }));
    });
  });
  const res = await publicRequest('/from/handler?q=1', { method: 'POST', body: 'posted' });
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body), { method: 'POST', url: '/from/handler?q=1', host: 'app.test',
                                           forwardedFor: '127.0.0.1', body: 'posted' });
  assert.equal(tunnel.sessions, 1);
});

test('two sessions per edge, and both come back after the edge restarts', { timeout: 60000 }, async (t) => {
  const agent = spawnAgent(agentArgs(['--connections', '2']));
  t.after(() => agent.stop('SIGKILL'));
  const connected = () => (agent.stderr.match(/session [0-9a-f]{32} connected/g) ?? []).length;
  await eventually(() => connected() === 2, 15000, 'two sessions');
  await edge.restart();
  await eventually(() => connected() === 4, 20000, 'two sessions again after the restart');
  assert.match(agent.stderr, /reconnecting to 127\.0\.0\.1:\d+ in \d+ ms/);
  await eventually(tunnelUp, 15000, 'the tunnel answering after the restart');
  assert.equal(await agent.stop('SIGTERM'), 0, agent.stderr);
});

test('through an HTTP proxy with credentials (tinyproxy), and a clear 407', { timeout: 60000 }, async (t) => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'dialback-proxy-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const proxyPort = await freePort();
  writeFileSync(path.join(work, 'tinyproxy.conf'), `Port ${proxyPort}\nListen 127.0.0.1\nTimeout 60\n` +
    `LogFile "${work}/tinyproxy.log"\nLogLevel Connect\nPidFile "${work}/tinyproxy.pid"\n` +
    'MaxClients 20\nAllow 127.0.0.1\nBasicAuth alice s3cret\n');
  const proxy = spawn('tinyproxy', ['-d', '-c', path.join(work, 'tinyproxy.conf')], { stdio: 'ignore' });
  t.after(() => proxy.kill('SIGKILL'));
  const proxyLog = () => { try { return readFileSync(path.join(work, 'tinyproxy.log'), 'utf8'); } catch { return ''; } };
  await eventually(() => /Initializing tinyproxy|Listening on/.test(proxyLog()) || proxy.exitCode !== null, 10000, 'tinyproxy started');
  await eventually(() => new Promise((resolve) => {
    const s = net.connect(proxyPort, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  }), 10000, 'tinyproxy listening');

  const env = { ...process.env, HTTPS_PROXY: `http://alice:s3cret@127.0.0.1:${proxyPort}` };
  const agent = spawnAgent(agentArgs(), { env });
  t.after(() => agent.stop('SIGKILL'));
  await eventually(() => new RegExp(`connected to 127\\.0\\.0\\.1:${edge.agentsPort} via http://alice@127\\.0\\.0\\.1:${proxyPort}`).test(agent.stderr),
                   15000, 'a session through the proxy');
  assert.match(proxyLog(), new RegExp(`CONNECT 127\\.0\\.0\\.1:${edge.agentsPort} HTTP/1\\.1`));
  assert.equal((await publicRequest('/hello')).status, 200);
  assert.ok(!agent.stderr.includes('s3cret'), 'the proxy password was logged');
  assert.equal(await agent.stop('SIGTERM'), 0, agent.stderr);

  const anonymous = spawnAgent(agentArgs(['--proxy', `127.0.0.1:${proxyPort}`]));
  t.after(() => anonymous.stop('SIGKILL'));
  await eventually(() => anonymous.stderr.includes(`proxy http://127.0.0.1:${proxyPort} requires credentials (407`),
                   15000, 'the 407 reported');
  assert.equal(anonymous.child.exitCode, null, 'the agent keeps retrying');
});

test('behind an HTTP/1.1-only proxy: h2 is refused, auto ends on poll', { timeout: 60000 }, async (t) => {
  const nginx = await startHttp11Proxy(edge);
  t.after(() => nginx.stop());
  const through = (transport) => {
    const args = agentArgs(['--transport', transport]);
    args[args.indexOf(edge.edgeAddress)] = `127.0.0.1:${nginx.port}`;
    return spawnAgent(args);
  };
  const h2 = through('h2');
  assert.equal(await h2.exited, 1, h2.stderr);
  assert.match(h2.stderr, /refused the agent: 400 bad_request/);

  const auto = through('auto');
  t.after(() => auto.stop('SIGKILL'));
  await eventually(() => /on poll after \d+ ms/.test(auto.stderr), 15000, 'auto on poll');
  assert.match(auto.stderr, /no h2 session with edge 127\.0\.0\.1:\d+ \(the edge refused the agent: 400/);
  await eventually(tunnelUp, 15000, 'the tunnel answering through nginx');
  const down = await publicRequest('/big?chunks=64');
  assert.equal(sha256(down.body), sha256(Buffer.concat(Array(64).fill(CHUNK))));
  assert.equal(await auto.stop('SIGTERM'), 0, auto.stderr);
});

test('auto moves from poll back to h2 once h2 gets through, dropping no request', { timeout: 60000 }, async (t) => {
  // A relay whose target the test switches: nginx (h2 refused) first, then the edge itself.
  const nginx = await startHttp11Proxy(edge);
  t.after(() => nginx.stop());
  let target = nginx.port;
  const relay = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    client.pipe(upstream).on('error', () => client.destroy());
    upstream.pipe(client).on('error', () => upstream.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise((resolve) => relay.listen(0, '127.0.0.1', resolve));
  t.after(() => relay.close());
  const logs = [];
  const tunnel = await connect({
    edge: `127.0.0.1:${relay.address().port}`, tunnel: 'web', token: edge.token, ca: readFileSync(edge.ca),
    serverName: 'localhost', connections: 1, transport: 'auto', probeIntervalMs: 500,
    upstream: `http://127.0.0.1:${servicePort}`, log: (level, message) => logs.push(message),
  });
  t.after(() => tunnel.close(1000));
  const logged = (pattern) => logs.some((line) => pattern.test(line));
  await eventually(() => logged(/on poll after \d+ ms/), 15000, 'auto on poll');
  await eventually(tunnelUp, 15000, 'the tunnel answering through nginx');

  let stop = false;
  const load = (async () => {
    let sent = 0;
    let failed = 0;
    while (!stop && sent < 2000) {
      ++sent;
      const answer = await publicRequest('/hello').catch(() => null);
      if (answer?.status !== 200) ++failed;
    }
    return { sent, failed };
  })();
  target = edge.agentsPort;
  await eventually(() => logged(/moving session \S+ from poll to h2/), 15000, 'the move to h2');
  await eventually(() => logged(/on h2 again/), 15000, 'the probe\'s session taken');
  await eventually(() => logged(/\(poll\) ended/), 15000, 'the poll session ended');
  for (let i = 0; i < 5; ++i) assert.equal((await publicRequest('/hello')).status, 200);
  stop = true;
  const { sent, failed } = await load;
  assert.ok(sent > 0);
  assert.equal(failed, 0, `${failed} of ${sent} requests failed while moving from poll to h2`);
});

test('npm pack: the tarball installs and runs in a clean directory', { timeout: 120000 }, async (t) => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'dialback-npm-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const npmEnv = { ...process.env, npm_config_cache: path.join(work, 'cache'), npm_config_update_notifier: 'false',
                   npm_config_audit: 'false', npm_config_fund: 'false' };
  execFileSync('npm', ['pack', '--pack-destination', work], { cwd: PACKAGE_DIR, env: npmEnv, stdio: 'ignore' });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack produced no tarball');
  const project = path.join(work, 'project');
  execFileSync('npm', ['init', '-y'], { cwd: work, env: npmEnv, stdio: 'ignore' });
  execFileSync('mkdir', ['-p', project]);
  execFileSync('npm', ['init', '-y'], { cwd: project, env: npmEnv, stdio: 'ignore' });
  execFileSync('npm', ['install', '--offline', path.join(work, tarball)], { cwd: project, env: npmEnv, stdio: 'ignore' });
  const bin = path.join(project, 'node_modules', '.bin', 'dialback-agent');
  const agent = spawnAgent(agentArgs(), { command: bin, prefix: [], cwd: project });
  t.after(() => agent.stop('SIGKILL'));
  await eventually(() => /session [0-9a-f]{32} connected/.test(agent.stderr), 15000, 'the packed agent connected');
  assert.equal(await agent.stop('SIGTERM'), 0, agent.stderr);
});
