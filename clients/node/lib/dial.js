// The TCP + TLS dial to an edge, directly or through an HTTP proxy's
// CONNECT tunnel (docs/configuration.md, "Proxies"), under one deadline.
import net from 'node:net';
import tls from 'node:tls';

// "http://[user[:password]@]host[:port]" as curl reads HTTPS_PROXY.
export function parseProxyUrl(text) {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error('invalid proxy URL: expected http://[user:password@]host[:port]');
  }
  if (url.protocol !== 'http:') {
    throw new Error(`invalid proxy URL: the scheme ${url.protocol}// is not supported: only http:// proxies (which tunnel with CONNECT)`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new Error('invalid proxy URL: a path, query or fragment is not allowed');
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port: url.port ? Number(url.port) : 1080,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    display: `http://${url.username ? `${decodeURIComponent(url.username)}@` : ''}${url.host}${url.port ? '' : ':1080'}`,
  };
}

// NO_PROXY as curl reads it: "*", domains (and their subdomains), IP
// addresses and CIDR ranges.
export function noProxyMatches(list, host) {
  const entries = (list || '').split(/[\s,]+/).filter(Boolean);
  const name = host.toLowerCase().replace(/\.$/, '');
  for (let entry of entries) {
    if (entry === '*') return true;
    entry = entry.replace(/^\[(.*)\]$/, '$1');
    const [address, bits] = entry.split('/');
    if (net.isIP(address)) {
      if (!net.isIP(name)) continue;
      const block = new net.BlockList();
      const family = net.isIPv6(address) ? 'ipv6' : 'ipv4';
      if (bits !== undefined) block.addSubnet(address, Number(bits), family);
      else block.addAddress(address, family);
      if (block.check(name, net.isIPv6(name) ? 'ipv6' : 'ipv4')) return true;
      continue;
    }
    const domain = entry.toLowerCase().replace(/^\.+/, '').replace(/\.+$/, '');
    if (domain && (name === domain || name.endsWith(`.${domain}`))) return true;
  }
  return false;
}

function connectThroughProxy(proxy, host, port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: proxy.host, port: proxy.port });
    const target = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
    const name = `proxy ${proxy.display}`;
    let buffered = Buffer.alloc(0);
    const fail = (message) => {
      socket.destroy();
      reject(new Error(message));
    };
    socket.once('error', (error) => fail(`${name}: ${error.message}`));
    socket.once('connect', () => {
      const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`, 'User-Agent: dialback-agent-node'];
      if (proxy.user) {
        const basic = Buffer.from(`${proxy.user}:${proxy.password}`).toString('base64');
        lines.push(`Proxy-Authorization: Basic ${basic}`);
      }
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    const onData = (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffered.length > 16 * 1024) fail(`${name}: bad answer to CONNECT ${target}: head over 16 KiB`);
        return;
      }
      socket.removeListener('data', onData);
      socket.pause();
      const statusLine = buffered.subarray(0, buffered.indexOf('\r\n')).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine);
      if (!match) return fail(`${name}: bad answer to CONNECT ${target}`);
      const status = Number(match[1]);
      const answer = `${status} ${match[2]}`.trim();
      if (status === 407 || status === 401) {
        return fail(proxy.user ? `${name} refused the credentials of user ${proxy.user} (${answer})`
                               : `${name} requires credentials (${answer}): give them in the proxy URL, http://user:password@host:port`);
      }
      if (status < 200 || status > 299) return fail(`${name} refused CONNECT ${target}: ${answer}`);
      if (buffered.length > end + 4) return fail(`${name} sent data after its answer to CONNECT ${target}`);
      socket.removeAllListeners('error');
      resolve(socket);
    };
    socket.on('data', onData);
    socket.once('end', () => fail(`${name} closed the connection instead of answering CONNECT ${target}`));
  });
}

// Resolves with a connected, verified TLSSocket to the edge.
// `options`: { host, port, serverName, ca, cert, key, proxy, timeoutMs }.
export async function dialTls(options) {
  const { host, port, serverName, proxy, timeoutMs = 10000 } = options;
  let timer;
  let pending;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => {
      pending?.destroy();
      reject(new Error(`dial to ${host}:${port} timed out`));
    }, timeoutMs);
  });
  const dial = (async () => {
    const socket = proxy ? await connectThroughProxy(proxy, host, port) : undefined;
    return await new Promise((resolve, reject) => {
      const secure = tls.connect({
        socket,
        host: socket ? undefined : host,
        port: socket ? undefined : port,
        servername: net.isIP(serverName) ? undefined : serverName,
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        ALPNProtocols: ['http/1.1'],
        checkServerIdentity: (_, cert) => tls.checkServerIdentity(serverName, cert),
      });
      pending = secure;
      secure.once('secureConnect', () => {
        secure.removeAllListeners('error');
        secure.setNoDelay(true);
        resolve(secure);
      });
      secure.once('error', (error) => reject(error));
    });
  })();
  dial.catch(() => {});  // settled after the deadline: already reported
  try {
    return await Promise.race([dial, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
