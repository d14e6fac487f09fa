// dialback-agent: serve a local service, or a handler of your own, through
// a dialback edge.
//
//   import { connect } from 'dialback-agent';
//   const tunnel = await connect({ edge: 'edge.example.com:8443', tunnel: 'web', token });
//   tunnel.serve((req, res) => res.end('hello through the tunnel\n'));
import { normalizeOptions, UsageError } from './options.js';
import { Tunnel } from './tunnel.js';
import { RegistrationRefused } from './registration.js';

export { Tunnel, RegistrationRefused, UsageError };

// Opens the tunnel's sessions; resolves with the Tunnel once one session is
// up, rejects with a RegistrationRefused when the edge refuses for good
// (wrong token, unknown tunnel) or a UsageError for bad options.
// `upstream` (a URL, http://host:port[/base]) forwards requests to a local
// service (with `timeouts: {connectTimeoutMs, responseTimeoutMs}`);
// otherwise pass `handler` or call tunnel.serve(handler). Requests that
// arrive before a handler is set get 503.
export async function connect(options) {
  const tunnel = new Tunnel(normalizeOptions(options));
  if (options.handler) tunnel.serve(options.handler);
  return tunnel.start();
}
