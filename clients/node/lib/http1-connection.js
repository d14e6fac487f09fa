// A keep-alive HTTP/1.1 client connection on a socket the agent dialed
// (lib/dial.js), one exchange at a time: what the poll transport's requests
// need. Responses are framed by Content-Length (none: no body).
import { parseHead } from './registration.js';

const MAX_HEAD = 16 * 1024;

export class Http1Connection {
  #socket;
  #buffered = Buffer.alloc(0);
  #waiting = null;  // the pending exchange's { resolve, reject, head }
  #closed = false;

  constructor(socket) {
    this.#socket = socket;
    socket.on('data', (chunk) => this.#onData(chunk));
    socket.on('error', (error) => this.#fail(error));
    socket.on('close', () => this.#fail(new Error('the connection closed')));
    socket.resume();
  }

  get closed() { return this.#closed; }

  close() {
    this.#closed = true;
    this.#socket.destroy();
  }

  // Resolves { status, fields (a Map, lower-case names), body (Buffer) }.
  request(method, path, fields, body = Buffer.alloc(0), timeoutMs = 30000) {
    if (this.#closed) return Promise.reject(new Error('the connection is closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.#fail(new Error('the request timed out')), timeoutMs);
      this.#waiting = {
        resolve: (value) => { clearTimeout(timer); resolve(value); },
        reject: (error) => { clearTimeout(timer); reject(error); },
        head: null,
      };
      const lines = [`${method} ${path} HTTP/1.1`];
      for (const [name, value] of Object.entries(fields)) lines.push(`${name}: ${value}`);
      lines.push(`Content-Length: ${body.length}`, '', '');
      this.#socket.write(Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body]));
    });
  }

  #fail(error) {
    this.#closed = true;
    this.#socket.destroy();
    const waiting = this.#waiting;
    this.#waiting = null;
    waiting?.reject(error);
  }

  #onData(chunk) {
    this.#buffered = this.#buffered.length ? Buffer.concat([this.#buffered, chunk]) : chunk;
    const waiting = this.#waiting;
    if (!waiting) return this.#fail(new Error('the edge sent bytes nobody asked for'));
    if (!waiting.head) {
      const end = this.#buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.#buffered.length > MAX_HEAD) this.#fail(new Error('a response head over 16 KiB'));
        return;
      }
      try {
        waiting.head = parseHead(this.#buffered.subarray(0, end).toString('latin1'));
      } catch (error) {
        return this.#fail(error);
      }
      this.#buffered = this.#buffered.subarray(end + 4);
    }
    const length = Number.parseInt(waiting.head.fields.get('content-length') ?? '0', 10);
    if (!Number.isFinite(length) || length < 0) return this.#fail(new Error('a bad Content-Length'));
    if (this.#buffered.length < length) return;
    const body = this.#buffered.subarray(0, length);
    this.#buffered = this.#buffered.subarray(length);
    this.#waiting = null;
    const { status, fields } = waiting.head;
    if ((fields.get('connection') ?? '').toLowerCase() === 'close') {
      this.#closed = true;
      this.#socket.end();
    }
    waiting.resolve({ status, fields, body });
  }
}
