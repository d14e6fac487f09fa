// The registration handshake of the h2 transport (docs/protocol.md §2): one
// HTTP/1.1 request on the TLS connection the agent dialed, answered by a
// `101` that turns the connection into reversed HTTP/2, or by a refusal
// with a JSON body.
import { randomBytes } from 'node:crypto';

export const REGISTRATION_PATH = '/.well-known/dialback/v1/tunnel';
const MAX_HEAD = 16 * 1024;
const MAX_BODY = 64 * 1024;
const USER_AGENT = 'dialback-agent-node/0.1.0';

// 32 hexadecimal digits, new for every connection (Dialback-Session).
export function newSessionId() {
  return randomBytes(16).toString('hex');
}

// The identity and credential fields every registration carries (§2.1).
export function registrationFields({ tunnel, node, cluster, tenant, labels, authorization, sessionId }) {
  const fields = {};
  if (authorization) fields.Authorization = authorization;
  fields['Dialback-Tunnel'] = tunnel;
  fields['Dialback-Node'] = node;
  fields['Dialback-Cluster'] = cluster || tunnel;
  fields['Dialback-Tenant'] = tenant || 'default';
  const labelList = Object.entries(labels || {}).map(([k, v]) => `${k}=${v}`);
  if (labelList.length) fields['Dialback-Labels'] = labelList.join(', ');
  fields['Dialback-Session'] = sessionId;
  fields['User-Agent'] = USER_AGENT;
  return fields;
}

// The h2 registration request head, as bytes to write.
export function registrationRequest(options) {
  const lines = [
    `GET ${REGISTRATION_PATH} HTTP/1.1`,
    `Host: ${options.serverName}`,
    'Connection: Upgrade',
    'Upgrade: ptth',
    'ALPN: h2',
  ];
  for (const [name, value] of Object.entries(registrationFields(options))) lines.push(`${name}: ${value}`);
  lines.push('', '');
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

// A refusal by the edge (§2.4): status, stable code, message, Retry-After.
export class RegistrationRefused extends Error {
  constructor(status, code, message, retryAfter) {
    super(`the edge refused the agent: ${status} ${code}: ${message}`);
    this.status = status;
    this.code = code;
    this.reason = message;
    this.retryAfter = retryAfter;
  }

  // 400, 401, 403 and 404 are final: retrying cannot help.
  get fatal() {
    return [400, 401, 403, 404].includes(this.status);
  }
}

export function parseHead(text) {
  const [statusLine, ...fieldLines] = text.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
  if (!match) throw new Error(`the edge sent no HTTP response: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const fields = new Map();
  for (const line of fieldLines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error('the edge sent a malformed response header');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    fields.set(name, fields.has(name) ? `${fields.get(name)}, ${value}` : value);
  }
  return { status: Number(match[1]), fields };
}

// The refusal an answer carries (§2.4): the JSON body's error and message,
// else code http_error and the body's text.
export function refusalFrom(status, fields, body) {
  let code = 'http_error';
  let message = '';
  try {
    const parsed = JSON.parse(body.toString('utf8'));
    code = String(parsed.error ?? code).slice(0, 200);
    message = String(parsed.message ?? '').slice(0, 200);
  } catch {
    message = body.toString('utf8').trim().slice(0, 200);
  }
  const retry = Number.parseInt(fields.get('retry-after') ?? '', 10);
  return new RegistrationRefused(status, code, message, Number.isFinite(retry) ? retry : undefined);
}

const hasToken = (list, token) =>
  (list || '').split(',').some((t) => t.trim().toLowerCase() === token);

// Reads the edge's answer from `socket` (paused or flowing). Resolves with
// { edgeId, routes, rest } on `101`, where `rest` holds the bytes read past
// the head (the start of HTTP/2, which must not be lost); rejects with a
// RegistrationRefused, or an Error for anything malformed.
export function readRegistrationResponse(socket) {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    let head = null;
    const finish = (error, value) => {
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('error', onError);
      socket.pause();
      if (error) reject(error); else resolve(value);
    };
    const refusal = (body) => refusalFrom(head.status, head.fields, body);
    const onData = (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!head) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) {
          if (buffered.length > MAX_HEAD) finish(new Error('the edge sent a response head over 16 KiB'));
          return;
        }
        try {
          head = parseHead(buffered.subarray(0, end).toString('latin1'));
        } catch (error) {
          finish(error);
          return;
        }
        buffered = buffered.subarray(end + 4);
        if (head.status === 101) {
          if (!hasToken(head.fields.get('upgrade'), 'ptth') ||
              (head.fields.has('alpn') && !hasToken(head.fields.get('alpn'), 'h2'))) {
            finish(new Error('the edge answered 101 without Upgrade: ptth / ALPN: h2'));
            return;
          }
          finish(null, {
            edgeId: head.fields.get('dialback-edge') ?? '',
            routes: head.fields.get('dialback-routes') ?? '',
            rest: buffered,
          });
          return;
        }
      }
      const length = Number.parseInt(head.fields.get('content-length') ?? '', 10);
      if (Number.isFinite(length) && buffered.length >= Math.min(length, MAX_BODY)) {
        finish(refusal(buffered.subarray(0, Math.min(length, MAX_BODY))));
      } else if (buffered.length >= MAX_BODY) {
        finish(refusal(buffered.subarray(0, MAX_BODY)));
      }
    };
    const onEnd = () => {
      if (head) finish(refusal(buffered));
      else finish(new Error('the edge closed the connection during registration'));
    };
    const onError = (error) => finish(error);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.resume();
  });
}
