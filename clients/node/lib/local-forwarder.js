// Forwards each tunnel stream to a local HTTP/1.1 service (docs/protocol.md
// §3.5): ordinary requests with streamed bodies both ways, 1xx, trailers,
// and extended CONNECT (WebSocket and other upgrades) as an HTTP/1.1
// upgrade whose bytes are then relayed. Failures are answered as §6.2 says.
import http from 'node:http';
import http2 from 'node:http2';
import { randomBytes } from 'node:crypto';

const { NGHTTP2_CANCEL, NGHTTP2_PROTOCOL_ERROR } = http2.constants;

// Fields that belong to one HTTP/1.1 connection and never cross the tunnel.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding',
                            'upgrade', 'te', 'trailer', 'proxy-authenticate', 'http2-settings']);
// Fields a trailer block must not carry (§3.5, "Trailers").
const NOT_IN_TRAILERS = new Set(['content-length', 'content-type', 'content-encoding', 'content-range',
                                 'host', 'authorization', 'set-cookie', 'cookie', 'trailer']);

function connectionTokens(fields) {
  const value = fields.connection;
  const list = Array.isArray(value) ? value.join(',') : value || '';
  return new Set(list.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
}

// HTTP/1.1 fields from a local response (lower-case names) fit for HTTP/2.
function end2end(fields, extraDrop = new Set()) {
  const named = connectionTokens(fields);
  const out = {};
  for (const [name, value] of Object.entries(fields)) {
    if (HOP_BY_HOP.has(name) || named.has(name) || extraDrop.has(name) || name.startsWith(':')) continue;
    out[name] = value;
  }
  return out;
}

// The agent's own answer: text/plain and Dialback-Error (§6.2).
export function respondError(stream, status, message) {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close(NGHTTP2_PROTOCOL_ERROR);
    return;
  }
  stream.respond({ ':status': status, 'content-type': 'text/plain; charset=utf-8',
                   'dialback-error': String(status) });
  stream.end(`${message}\n`);
}

// A handler (stream, headers) that forwards to `target` ("http://host:port[/base]").
export function makeForwarder(target, { connectTimeoutMs = 5000, responseTimeoutMs = 60000 } = {}) {
  const url = new URL(target);
  if (url.protocol !== 'http:') throw new Error(`invalid upstream URL "${target}": only http:// URLs are supported`);
  const base = url.pathname.replace(/\/+$/, '');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || 80);
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: Infinity });

  return function forward(stream, headers) {
    const method = headers[':method'];
    const protocol = headers[':protocol'];
    const fields = {};
    for (const [name, value] of Object.entries(headers)) {
      if (!name.startsWith(':') && !HOP_BY_HOP.has(name)) fields[name] = value;
    }
    fields.host = headers[':authority'] ?? `${host}:${port}`;
    const upgrade = method === 'CONNECT' && protocol;
    if (method === 'CONNECT' && !protocol) {
      respondError(stream, 501, 'plain CONNECT is not supported');
      return;
    }
    if (upgrade) {
      fields.connection = 'Upgrade';
      fields.upgrade = protocol;
      if (protocol.toLowerCase() === 'websocket') {
        fields['sec-websocket-key'] ??= randomBytes(16).toString('base64');
        fields['sec-websocket-version'] ??= '13';
      }
    }
    const request = http.request({
      host, port, method: upgrade ? 'GET' : method, path: base + (headers[':path'] ?? '/'),
      headers: fields, setHost: false, agent: upgrade ? false : keepAlive,
    });
    let answered = false;
    const connectTimer = setTimeout(() => {
      request.destroy(new Error('timeout'));
      respondError(stream, 502, `cannot connect to the local service ${url.host}: timed out`);
    }, connectTimeoutMs);
    request.once('socket', (socket) => {
      if (socket.connecting) socket.once('connect', () => clearTimeout(connectTimer));
      else clearTimeout(connectTimer);  // a kept-alive connection
    });
    const responseTimer = setTimeout(() => {
      if (answered) return;
      request.destroy(new Error('timeout'));
      respondError(stream, 504, 'the local service sent no response in time');
    }, responseTimeoutMs);
    const settle = () => {
      answered = true;
      clearTimeout(connectTimer);
      clearTimeout(responseTimer);
    };

    request.on('information', (info) => {
      if (info.statusCode === 101 || stream.destroyed) return;
      stream.additionalHeaders({ ':status': info.statusCode, ...end2end(info.headers) });
    });
    request.on('response', (response) => {
      settle();
      const status = response.statusCode;
      const responseFields = end2end(response.headers);
      if (upgrade && status >= 200 && status < 300) responseFields['dialback-upgrade'] = 'declined';
      const bodiless = method === 'HEAD' || status === 204 || status === 304;
      if (stream.destroyed) {
        response.destroy();
        return;
      }
      if (bodiless) {
        stream.respond({ ':status': status, ...responseFields }, { endStream: true });
        response.resume();
        return;
      }
      stream.respond({ ':status': status, ...responseFields }, { waitForTrailers: true });
      stream.on('wantTrailers', () => {
        const trailers = end2end(response.trailers, NOT_IN_TRAILERS);
        stream.sendTrailers(trailers);
      });
      response.pipe(stream);
      response.on('aborted', () => stream.close(NGHTTP2_PROTOCOL_ERROR));
      response.on('error', () => stream.close(NGHTTP2_PROTOCOL_ERROR));
    });
    request.on('upgrade', (response, socket, head) => {
      settle();
      if (stream.destroyed) {
        socket.destroy();
        return;
      }
      stream.respond({ ':status': 200, ...end2end(response.headers) });
      if (head.length) stream.write(head);
      socket.pipe(stream);
      stream.pipe(socket);
      socket.on('error', () => stream.close(NGHTTP2_CANCEL));
      socket.on('close', () => { if (!stream.writableEnded) stream.close(NGHTTP2_CANCEL); });
      stream.on('close', () => socket.destroy());
    });
    request.on('error', (error) => {
      settle();
      if (stream.destroyed) return;
      respondError(stream, 502, `the local service ${url.host} failed: ${error.code ?? error.message}`);
    });
    // The edge reset the stream (the public client left): close the local
    // connection at once.
    stream.on('close', () => {
      settle();
      if (!request.destroyed && !stream.writableFinished) request.destroy();
    });
    stream.on('error', () => request.destroy());
    if (upgrade) request.flushHeaders();
    else stream.pipe(request);
  };
}
