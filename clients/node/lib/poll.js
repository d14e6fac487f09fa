// The poll transport (docs/protocol.md §12): the reversed HTTP/2 session
// over a byte pipe built from HTTPS/1.1 requests, for networks where only
// those get through. PollPipe is that pipe as a Duplex, which node:http2
// serves like a socket; `next` long-polls bring the edge's bytes and `send`
// requests carry the agent's (two of each unless pollNextRequests and
// pollSendRequests say otherwise), each on a keep-alive connection of its
// own that is redialed when it closes: the session outlives them.
import { Duplex } from 'node:stream';
import { dialTls } from './dial.js';
import { Http1Connection } from './http1-connection.js';
import { newSessionId, refusalFrom, registrationFields } from './registration.js';
import { Session } from './session.js';

const PREFIX = '/.well-known/dialback/v1/poll/';
const MAX_BATCH = 1024 * 1024;
const MAX_AHEAD = 16;            // batches accepted past a missing one
const BUFFER = 4 * 1024 * 1024;  // unacknowledged or unread bytes before waiting
const UNREACHABLE_MS = 60000;
const FLUSH_MS = 5000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class PollPipe extends Duplex {
  #route;
  #outbound = [];        // written, not yet in a batch
  #outboundBytes = 0;
  #inflight = new Map();  // seq -> bytes, handed to a sender, not yet acknowledged
  #nextSeq = 1;
  #received = 0;         // every edge batch up to this one arrived
  #ahead = new Map();
  #stopped = false;
  #edgeEnded = false;
  #connections = new Set();
  #wakers = new Set();

  constructor(route) {
    super({ allowHalfOpen: false });
    this.#route = route;
    for (let i = 0; i < route.requests.next; ++i) this.#pollLoop();
    for (let i = 0; i < route.requests.send; ++i) this.#sendLoop();
  }

  #wake() {
    for (const wake of [...this.#wakers]) wake();
  }

  #changed(timeoutMs = 1000) {
    return new Promise((resolve) => {
      const wake = () => { clearTimeout(timer); this.#wakers.delete(wake); resolve(); };
      const timer = setTimeout(wake, timeoutMs);
      this.#wakers.add(wake);
    });
  }

  #unacknowledged() {
    let bytes = this.#outboundBytes;
    for (const batch of this.#inflight.values()) bytes += batch.length;
    return bytes;
  }

  _read() {
    this.#wake();  // a poller may wait for the session to read
  }

  async _write(chunk, _encoding, callback) {
    this.#outbound.push(chunk);
    this.#outboundBytes += chunk.length;
    this.#wake();
    while (!this.#stopped && this.#unacknowledged() > BUFFER) await this.#changed();
    callback(this.#stopped ? new Error('the poll session ended') : null);
  }

  // The session ended its writes: what it wrote still goes out.
  async _final(callback) {
    const until = Date.now() + FLUSH_MS;
    while (!this.#stopped && this.#unacknowledged() > 0 && Date.now() < until) await this.#changed(100);
    callback();
  }

  _destroy(error, callback) {
    this.#stop();
    if (!this.#edgeEnded) this.#sendClose();
    callback(error);
  }

  #stop() {
    this.#stopped = true;
    for (const connection of this.#connections) connection.close();
    this.#wake();
  }

  #fields(extra) {
    const route = this.#route;
    return { Host: route.serverName, 'Dialback-Poll-Session': route.token, 'Dialback-Tunnel': route.tunnel,
             ...extra };
  }

  async #connect() {
    const socket = await dialTls(this.#route.dial);
    const connection = new Http1Connection(socket);
    this.#connections.add(connection);
    socket.once('close', () => this.#connections.delete(connection));
    if (this.#stopped) connection.close();
    return connection;
  }

  #edgeForgot() {
    this.#edgeEnded = true;
    this.destroy(new Error('the edge no longer knows the poll session'));
  }

  #deliver(seq, body) {
    if (!Number.isInteger(seq) || seq < 1) return this.destroy(new Error('the edge sent a batch without a number'));
    if (seq <= this.#received || this.#ahead.has(seq)) return;  // a duplicate
    if (seq > this.#received + MAX_AHEAD) return this.destroy(new Error('a batch too far past a missing one'));
    this.#ahead.set(seq, body);
    while (this.#ahead.has(this.#received + 1)) {
      const next = this.#ahead.get(this.#received + 1);
      this.#ahead.delete(++this.#received);
      if (next.length) this.push(next);
    }
  }

  // Runs `exchange(connection)` until it returns, redialing with a short
  // backoff; ends the session when nothing got through for UNREACHABLE_MS.
  async #pump(exchange) {
    let connection = null;
    let failingSince = 0;
    let failures = 0;
    while (!this.#stopped) {
      try {
        connection ??= await this.#connect();
        const done = await exchange(connection);
        failingSince = 0;
        failures = 0;
        if (connection.closed) connection = null;
        if (done) return;
      } catch (error) {
        connection?.close();
        connection = null;
        if (this.#stopped) return;
        failingSince ||= Date.now();
        if (Date.now() - failingSince >= UNREACHABLE_MS) {
          this.destroy(new Error(`no poll request reached the edge for ${UNREACHABLE_MS / 1000} s: ${error.message}`));
          return;
        }
        await sleep(Math.min(100 * 2 ** Math.min(failures++, 5), 2000));
      }
    }
  }

  #pollLoop() {
    this.#pump(async (connection) => {
      const response = await connection.request('GET', `${PREFIX}next`,
                                                this.#fields({ 'Dialback-Poll-Ack': String(this.#received) }),
                                                undefined, 45000);
      if (this.#stopped) return true;
      if (response.status === 200) {
        this.#deliver(Number(response.fields.get('dialback-poll-seq')), response.body);
        while (!this.#stopped && this.readableLength > BUFFER) await this.#changed();
      } else if (response.status === 404) {
        this.#edgeForgot();
        return true;
      } else if (response.status !== 204) {
        throw new Error(`next answered ${response.status}`);
      }
      return false;
    });
  }

  #takeBatch() {
    if (this.#outbound.length === 0) return null;
    let bytes = Buffer.concat(this.#outbound);
    this.#outbound = [];
    if (bytes.length > MAX_BATCH) {
      this.#outbound.push(bytes.subarray(MAX_BATCH));
      bytes = bytes.subarray(0, MAX_BATCH);
    }
    this.#outboundBytes -= bytes.length;
    const seq = this.#nextSeq++;
    this.#inflight.set(seq, bytes);
    return { seq, bytes };
  }

  async #sendLoop() {
    let batch = null;
    await this.#pump(async (connection) => {
      while (!batch) {
        if (this.#stopped) return true;
        batch = this.#takeBatch();
        if (!batch) await this.#changed();
      }
      const response = await connection.request('POST', `${PREFIX}send`,
                                                this.#fields({ 'Dialback-Poll-Seq': String(batch.seq),
                                                               'Content-Type': 'application/octet-stream' }),
                                                batch.bytes, 30000);
      if (response.status === 204) {
        this.#inflight.delete(batch.seq);
        batch = null;
        this.#wake();
        return false;
      }
      if (response.status === 404) {
        this.#edgeForgot();
        return true;
      }
      if (response.status === 400) {
        this.destroy(new Error(`the edge refused batch ${batch.seq}`));
        return true;
      }
      throw new Error(`send answered ${response.status}`);  // the same batch again
    });
  }

  async #sendClose() {
    try {
      const connection = await dialTls(this.#route.dial).then((socket) => new Http1Connection(socket));
      await connection.request('POST', `${PREFIX}close`, this.#fields({}), undefined, 3000).catch(() => {});
      connection.close();
    } catch { /* the edge ends it when the PINGs stop */ }
  }
}

// Registers over `poll` and resolves with a running Session whose streams
// go to `server`, or rejects (RegistrationRefused for the edge's refusals).
export async function openPollSession(edge, options, server) {
  const serverName = edge.serverName || edge.host;
  const dial = { host: edge.host, port: edge.port, serverName, ca: options.ca, cert: options.cert,
                 key: options.key, proxy: edge.proxy };
  const registration = new Http1Connection(await dialTls(dial));
  const sessionId = newSessionId();
  let answer;
  try {
    answer = await registration.request('POST', `${PREFIX}register`,
                                        { Host: serverName, ...registrationFields({ ...options, sessionId }),
                                          Connection: 'close' }, undefined, 10000);
  } finally {
    registration.close();
  }
  if (answer.status !== 200) throw refusalFrom(answer.status, answer.fields, answer.body);
  let token;
  try {
    token = JSON.parse(answer.body.toString('utf8')).session;
  } catch { /* checked below */ }
  if (typeof token !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(token)) {
    throw new Error('the edge answered the poll registration without a session token');
  }
  const pipe = new PollPipe({ dial, serverName, token, tunnel: options.tunnel,
                              requests: options.pollRequests });
  let h2;
  server.once('session', (created) => { h2 = created; });
  server.emit('connection', pipe);
  if (!h2) {
    pipe.destroy();
    throw new Error('node:http2 did not take the poll pipe');
  }
  const where = `${edge.host}:${edge.port}${edge.proxy ? ` via ${edge.proxy.display}` : ''} (poll)`;
  return new Session(h2, {
    edgeId: answer.fields.get('dialback-edge') ?? '', where, sessionId,
    pingIntervalMs: options.pingIntervalMs ?? 15000, pingTimeoutMs: options.pingTimeoutMs ?? 10000,
  });
}
