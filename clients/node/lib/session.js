// One session with an edge over the h2 transport: dial, register, then
// serve reversed HTTP/2 on the same connection (docs/protocol.md §3), the
// edge being the HTTP/2 client and this agent the server.
import http2 from 'node:http2';
import { EventEmitter } from 'node:events';
import { dialTls } from './dial.js';
import { newSessionId, readRegistrationResponse, registrationRequest } from './registration.js';

const STREAM_WINDOW = 16 * 1024 * 1024;
const CONNECTION_WINDOW = 32 * 1024 * 1024;

// Emits 'goaway' when the edge announces it drains and 'close' (with a
// reason) once the session is over.
export class Session extends EventEmitter {
  #h2;
  #pingTimer;

  constructor(h2, { edgeId, where, sessionId, pingIntervalMs, pingTimeoutMs }) {
    super();
    this.#h2 = h2;
    this.edgeId = edgeId;
    this.where = where;
    this.id = sessionId;
    let reason = 'closed';
    h2.on('goaway', () => this.emit('goaway'));
    h2.on('error', (error) => { reason = error.message; });
    h2.on('close', () => {
      clearInterval(this.#pingTimer);
      this.emit('close', reason);
    });
    // Liveness (§3.3): a PING every interval; no ACK in time ends the session.
    this.#pingTimer = setInterval(() => {
      if (h2.destroyed) return;
      const timeout = setTimeout(() => {
        reason = 'PING timeout';
        h2.destroy();
      }, pingTimeoutMs);
      try {
        h2.ping(() => clearTimeout(timeout));
      } catch {
        clearTimeout(timeout);
      }
    }, pingIntervalMs);
    this.#pingTimer.unref();
  }

  // GOAWAY, in-flight streams finish; destroyed when `deadlineMs` passes first.
  // Two steps (RFC 9113 §6.8), as the edge drains: first a GOAWAY naming the
  // largest stream id, so the edge stops opening streams without any being
  // refused; after a PING round trip every stream it opened before that has
  // arrived, and the final GOAWAY (close) refuses none of them.
  drain(deadlineMs) {
    return new Promise((resolve) => {
      if (this.#h2.destroyed) return resolve();
      const timer = setTimeout(() => this.#h2.destroy(), deadlineMs);
      const close = () => {
        if (this.#h2.destroyed) return resolve();
        this.#h2.close(() => {
          clearTimeout(timer);
          resolve();
        });
      };
      try {
        this.#h2.goaway(http2.constants.NGHTTP2_NO_ERROR, 2 ** 31 - 1);
        if (!this.#h2.ping(() => close())) close();
      } catch {
        close();
      }
    });
  }

  get closed() {
    return this.#h2.closed || this.#h2.destroyed;
  }

  destroy() {
    this.#h2.destroy();
  }
}

// Dials `edge` and registers; resolves with a running Session whose streams
// go to `server` (an http2 server object), or rejects (RegistrationRefused
// for the edge's refusals).
export async function openSession(edge, options, server) {
  const socket = await dialTls({
    host: edge.host, port: edge.port, serverName: edge.serverName || edge.host,
    ca: options.ca, cert: options.cert, key: options.key, proxy: edge.proxy,
  });
  const sessionId = newSessionId();
  const where = `${edge.host}:${edge.port}${edge.proxy ? ` via ${edge.proxy.display}` : ''}`;
  let accepted;
  const timer = setTimeout(() => socket.destroy(new Error('registration timed out')), 10000);
  try {
    socket.write(registrationRequest({
      serverName: edge.serverName || edge.host, tunnel: options.tunnel, node: options.node,
      cluster: options.cluster, tenant: options.tenant, labels: options.labels,
      authorization: options.authorization, sessionId,
    }));
    accepted = await readRegistrationResponse(socket);
  } catch (error) {
    socket.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  // The edge's preface may have come with the 101: give it back to the stream.
  if (accepted.rest.length) socket.unshift(accepted.rest);
  // node:http2 hands a TLS socket whose ALPN is http/1.1 (what the h2
  // transport offers for its registration request) to its HTTP/1 fallback;
  // after the 101 this connection is HTTP/2, so say so.
  socket.alpnProtocol = 'h2';
  let h2;
  server.once('session', (created) => { h2 = created; });
  server.emit('connection', socket);
  if (!h2) {
    socket.destroy();
    throw new Error('node:http2 did not take the connection');
  }
  try {
    h2.setLocalWindowSize(CONNECTION_WINDOW);
  } catch { /* older Node: the default window */ }
  return new Session(h2, {
    edgeId: accepted.edgeId, where, sessionId,
    pingIntervalMs: options.pingIntervalMs ?? 15000, pingTimeoutMs: options.pingTimeoutMs ?? 10000,
  });
}

// The http2 server object sessions are handed to, with the agent's SETTINGS
// (§3.2). With `onStream(stream, headers)` the raw streams go to it; with
// `onRequest(req, res)` node:http2's compatibility objects, shaped like
// node:http's (the two do not mix: the compatibility layer reads the
// stream and answers trailers itself).
export function createStreamServer({ onStream, onRequest }) {
  const server = http2.createServer({
    settings: { enableConnectProtocol: true, maxConcurrentStreams: 256,
                initialWindowSize: STREAM_WINDOW, maxHeaderListSize: 64 * 1024 },
    maxSessionMemory: 64,
  });
  if (onStream) server.on('stream', onStream);
  else server.on('request', onRequest);
  return server;
}
