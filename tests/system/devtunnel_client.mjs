// A DevTunnel client scripted from DevTunnel's wire (docs/devtunnel.md), the
// way its Node client behaves: register (remembering nothing), long-poll
// GET /data, write each raw request to the local app on a fresh TCP
// connection, read its answer until the app closes, POST it to /data (which
// then waits as the next poll). Unlike the real client it stops after
// REQUESTS requests with GET /close, and prints every wire exchange: the
// transcript the system test checks and shows.
//
//   node devtunnel_client.mjs SERVER_URL APP_PORT REQUESTS
import net from 'node:net';

const [server, appPort, wanted] = process.argv.slice(2);
if (!server || !appPort || !wanted) {
  console.error('usage: devtunnel_client.mjs SERVER_URL APP_PORT REQUESTS');
  process.exit(2);
}
const base = server.replace(/\/$/, '');
const userId = `ci@${process.env.HOSTNAME || 'host'}:${appPort}#${100000 + Math.floor(Math.random() * 899999)}`;
const say = (line) => console.log(line);

async function call(method, path, headers, body) {
  const shown = Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join(', ');
  say(`> ${method} ${path} [${shown}]${body ? ` (${body.length} bytes)` : ''}`);
  const response = await fetch(base + path, { method, headers, body });
  const bytes = Buffer.from(await response.arrayBuffer());
  const tunnel = [...response.headers].filter(([k]) => k.startsWith('x-tunnel-'))
    .map(([k, v]) => `${k}: ${v}`).join(', ');
  const text = response.headers.get('content-type') === 'application/octet-stream'
    ? `${bytes.length} bytes of raw request` : JSON.stringify(bytes.toString());
  say(`< ${response.status} [${tunnel}] ${text}`);
  return { status: response.status, headers: response.headers, bytes };
}

// The app's whole answer to one raw request (it closes when done).
function askApp(raw) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const socket = net.createConnection({ host: '127.0.0.1', port: Number(appPort) }, () => socket.write(raw));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
  });
}

const registered = await call('GET', '/register', {
  'X-Tunnel-User-Id': userId, 'X-Tunnel-Client-Version': '1',
});
if (registered.status !== 200) process.exit(1);
const port = registered.headers.get('x-tunnel-server-port');
say(`TUNNEL[${port}:${appPort}] - Tunnel Server Port: ${port}, UserId: ${userId}`);

let served = 0;
let next = await call('GET', '/data', { 'X-Tunnel-User-Id': userId, 'X-Tunnel-Port': port });
for (let errors = 0; served < Number(wanted) && errors < 10;) {
  if (next.status === 204) {
    next = await call('GET', '/data', { 'X-Tunnel-User-Id': userId, 'X-Tunnel-Port': port });
    continue;
  }
  if (next.status !== 200) {
    errors++;
    next = await call('GET', '/data', { 'X-Tunnel-User-Id': userId, 'X-Tunnel-Port': port });
    continue;
  }
  const id = next.headers.get('x-tunnel-request-id');
  const answer = await askApp(next.bytes);
  say(`  app answered ${JSON.stringify(answer.toString('latin1').split('\r\n')[0])}, ${answer.length} bytes`);
  served++;
  next = await call('POST', '/data', {
    'X-Tunnel-User-Id': userId, 'X-Tunnel-Port': port, 'X-Tunnel-Request-Id': id,
    'Content-Type': 'application/octet-stream',
  }, answer);
}
const closed = await call('GET', '/close', { 'X-Tunnel-User-Id': userId });
process.exit(closed.status === 200 && served === Number(wanted) ? 0 : 1);
