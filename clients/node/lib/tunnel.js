// A tunnel: sessions kept open to every edge (`connections` each), redialed
// with jittered backoff, replaced at once when an edge drains, drained on
// close(). Requests go to the local service of `options.upstream`, or else
// to the handler set with serve().
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { createStreamServer, openSession } from './session.js';
import { openPollSession } from './poll.js';
import { makeForwarder, respondError } from './local-forwarder.js';
import { RegistrationRefused } from './registration.js';

const HEALTHY_AFTER_MS = 60000;
const PROBE_INTERVAL_MS = 5 * 60000;

// Whether `auto` should use poll after this h2 failure: the edge was not
// reached, or something in between answered (a 400 for a removed upgrade,
// an answer that is not the edge's).
function worthPoll(error) {
  return !(error instanceof RegistrationRefused) || error.status === 400 || error.code === 'http_error';
}

// 0.5 s doubling up to 30 s; each delay between half and all of the step.
class Backoff {
  #step = 500;
  next() {
    const delay = this.#step / 2 + Math.random() * (this.#step / 2);
    this.#step = Math.min(this.#step * 2, 30000);
    return delay;
  }
  reset() { this.#step = 500; }
}

export class Tunnel extends EventEmitter {
  #options;
  #server;
  #handler = null;
  #sessions = new Set();
  #stopping = false;
  #wakeups = new Set();
  #h2Failed = new Map();  // auto: per edge, when h2 last failed
  // auto: per edge, h2 sessions a probe registered, each for a slot's next
  // dial (the edge may route requests to them at once: they serve them).
  #h2Ready = new Map();

  constructor(options) {
    super();
    this.#options = { node: `${os.hostname()}-${process.pid}`, ...options };
    if (options.upstream) {
      const forward = makeForwarder(options.upstream, options.timeouts);
      this.#server = createStreamServer({ onStream: forward });
    } else {
      this.#server = createStreamServer({ onRequest: (req, res) => this.#dispatch(req, res) });
    }
  }

  get sessions() { return this.#sessions.size; }

  // Serve requests with `handler(req, res)`: node:http-shaped objects. Not
  // with `upstream`.
  serve(handler) {
    if (this.#options.upstream) throw new Error('this tunnel forwards to its upstream');
    this.#handler = handler;
    return this;
  }

  #dispatch(req, res) {
    if (!this.#handler) {
      respondError(req.stream, 503, 'the agent has no handler yet');
      return;
    }
    try {
      this.#handler(req, res);
    } catch (error) {
      this.#log('error', `handler failed: ${error.message}`);
      respondError(req.stream, 500, 'the handler failed');
    }
  }

  #log(level, message) {
    this.#options.log?.(level, message);
  }

  // Starts every slot; resolves once the first session is up, rejects on a
  // final refusal before that.
  start() {
    return new Promise((resolve, reject) => {
      const onUp = () => { this.off('fatal', onFatal); resolve(this); };
      const onFatal = (error) => { this.off('session', onUp); reject(error); };
      this.once('session', onUp);
      this.once('fatal', onFatal);
      for (const edge of this.#options.edges) {
        for (let i = 0; i < (edge.connections ?? this.#options.connections ?? 2); ++i) {
          this.#runSlot(edge);
        }
      }
    });
  }

  #sleep(ms) {
    return new Promise((resolve) => {
      const wake = () => { clearTimeout(timer); this.#wakeups.delete(wake); resolve(); };
      const timer = setTimeout(wake, ms);
      this.#wakeups.add(wake);
    });
  }

  async #runSlot(edge) {
    const backoff = new Backoff();
    const where = `${edge.host}:${edge.port}`;
    while (!this.#stopping) {
      const started = Date.now();
      let session;
      let retryAfter;
      try {
        session = await this.#dial(edge);
      } catch (error) {
        if (error instanceof RegistrationRefused) {
          if (error.fatal) {
            this.#log('error', `edge ${where} refused tunnel '${this.#options.tunnel}': ${error.status} ${error.code}: ${error.reason}`);
            this.#fatal(error);
            return;
          }
          this.#log('warn', `edge ${where} refused the session for now: ${error.status} ${error.code}: ${error.reason}`);
          retryAfter = error.retryAfter;
        } else {
          this.#log('warn', `cannot reach edge ${where}: ${error.message}`);
        }
      }
      if (session) {
        if (this.#stopping) {
          session.destroy();
          return;
        }
        const ended = await this.#run(session);
        if (this.#stopping) return;
        if (ended === 'goaway') {
          backoff.reset();
          continue;  // the edge drains: open the replacement now
        }
        if (Date.now() - started >= HEALTHY_AFTER_MS) backoff.reset();
      }
      let delay = backoff.next();
      if (retryAfter !== undefined) delay = retryAfter * 1000 + delay / 4;
      this.#log('info', `reconnecting to ${where} in ${Math.round(delay)} ms`);
      await this.#sleep(delay);
    }
  }

  // One session over the tunnel's transport: h2, poll, or auto (h2, else
  // poll, probing h2 again every probeIntervalMs while on poll).
  async #dial(edge) {
    const transport = this.#options.transport ?? 'h2';
    if (transport === 'h2') return openSession(edge, this.#options, this.#server);
    if (transport === 'poll') return openPollSession(edge, this.#options, this.#server);
    const where = `${edge.host}:${edge.port}`;
    const interval = this.#options.probeIntervalMs ?? PROBE_INTERVAL_MS;
    const ready = this.#h2Ready.get(where) ?? [];
    while (ready.length > 0) {
      const session = ready.shift();
      if (session.closed) continue;
      this.#log('info', `edge ${where}: on h2 again`);
      return session;
    }
    const failedAt = this.#h2Failed.get(where);
    const started = Date.now();
    if (failedAt === undefined || started - failedAt >= interval) {
      try {
        const session = await openSession(edge, this.#options, this.#server);
        this.#h2Failed.delete(where);
        return session;
      } catch (error) {
        if (!worthPoll(error)) throw error;
        this.#log('warn', `no h2 session with edge ${where} (${error.message}); trying poll`);
        this.#h2Failed.set(where, Date.now());
      }
    }
    const session = await openPollSession(edge, this.#options, this.#server);
    this.#log('info', `edge ${where}: on poll after ${Date.now() - started} ms; probing h2 every ${Math.round(interval / 1000)} s`);
    const probe = setInterval(async () => {
      try {
        const tried = await openSession(edge, this.#options, this.#server);
        if (this.#stopping) {
          tried.destroy();
          return;
        }
        // The slot's replacement: closing it instead would fail the
        // requests the edge sends it before it learns of the close.
        this.#h2Ready.set(where, [...(this.#h2Ready.get(where) ?? []), tried]);
      } catch {
        return;
      }
      clearInterval(probe);
      this.#h2Failed.delete(where);
      this.#log('info', `h2 to edge ${where} works again: moving session ${session.id} from poll to h2`);
      session.emit('goaway');  // the slot opens the replacement now
      session.drain(30000);
    }, interval);
    probe.unref();
    session.once('close', () => clearInterval(probe));
    return session;
  }

  // Resolves 'goaway' when the edge drains (the session keeps finishing its
  // streams), or 'closed' when the session ended.
  #run(session) {
    this.#sessions.add(session);
    this.#log('info', `session ${session.id} connected to ${session.where} (edge ${session.edgeId}, tunnel=${this.#options.tunnel} node=${this.#options.node})`);
    this.emit('session', session);
    return new Promise((resolve) => {
      session.once('goaway', () => resolve('goaway'));
      session.once('close', (reason) => {
        this.#sessions.delete(session);
        this.#log('info', `session ${session.id} to ${session.where} ended: ${reason}`);
        this.emit('session-closed', session);
        resolve('closed');
      });
    });
  }

  #fatal(error) {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const wake of [...this.#wakeups]) wake();
    for (const session of [...this.#sessions, ...[...this.#h2Ready.values()].flat()]) session.destroy();
    this.#h2Ready.clear();
    this.emit('fatal', error);
  }

  // Stops dialing, sends GOAWAY on every session and lets in-flight
  // requests finish for up to `drainTimeoutMs`.
  async close(drainTimeoutMs = this.#options.drainTimeoutMs ?? 30000) {
    this.#stopping = true;
    for (const wake of [...this.#wakeups]) wake();
    this.#log('info', `agent draining ${this.#sessions.size} session(s)`);
    // Dials in progress end on their own: a session that opens now is closed.
    const ready = [...this.#h2Ready.values()].flat();
    this.#h2Ready.clear();
    await Promise.all([...this.#sessions, ...ready].map((session) => session.drain(drainTimeoutMs)));
    this.#log('info', 'agent stopped');
  }
}
