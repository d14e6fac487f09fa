#!/usr/bin/python3
"""Attack: tunnel-existence oracle on the agent listener. An unauthenticated
caller compares the edge's answers for an existing tunnel ("web") and an
unknown one to learn which tunnels exist.

Set-up: agents.client_ca is the edge's CA; tunnel web accepts a token and
the client name allowed-agent. Probes:
  (a) an mTLS certificate from the same CA named "stranger" (allowed by no
      tunnel), registering for web and for an unknown tunnel;
  (b) a wrong bearer token (no certificate), for web and for the unknown
      tunnel.
Asserted: within each pair both answers have the same status, 401, the
same body bytes and the same header fields (Date aside). Control:
allowed-agent's certificate registering for web gets 101 (the mTLS set-up
works).
"""
from attack_lib import agent_tls_context, check, log, register, run

UNKNOWN = "no-such-tunnel"


def probe(ctx, edge, tunnel, cert=None, token=None):
    response, sock, _ = register(ctx, edge, tls_context=agent_tls_context(ctx, cert=cert),
                                 tunnel=tunnel, token=token, node="prober")
    sock.close()
    return response


def compare(what, existing, unknown):
    log(f"{what}: web -> {existing.status} {existing.body!r}; "
        f"{UNKNOWN} -> {unknown.status} {unknown.body!r}")
    check(existing.status == unknown.status,
          f"{what}: status differs between an existing tunnel ({existing.status}) and an "
          f"unknown one ({unknown.status}): the tunnel's existence leaks")
    check(existing.status == 401, f"{what}: expected 401, got {existing.status}")
    check(existing.body == unknown.body,
          f"{what}: body differs between an existing tunnel ({existing.body!r}) and an unknown "
          f"one ({unknown.body!r})")
    fields = [sorted((k.lower(), v) for k, v in r.headers if k.lower() != "date")
              for r in (existing, unknown)]
    check(fields[0] == fields[1], f"{what}: header fields differ between an existing tunnel "
                                  f"({fields[0]}) and an unknown one ({fields[1]})")


def main(ctx):
    ctx.make_pki(client_names=["stranger", "allowed-agent"])
    edge = ctx.start_edge(agents_extra="client_ca: pki/ca.crt",
                          auth_extra="client_names: [allowed-agent]")

    control = probe(ctx, edge, "web", cert="allowed-agent")
    check(control.status == 101, f"control: allowed-agent's certificate got {control.status}, "
                                 f"not 101 ({control.body!r})")

    ctx.part("stranger certificate", lambda: compare(
        "stranger certificate", probe(ctx, edge, "web", cert="stranger"),
        probe(ctx, edge, UNKNOWN, cert="stranger")))
    ctx.part("wrong token", lambda: compare(
        "wrong token", probe(ctx, edge, "web", token="wrong"),
        probe(ctx, edge, UNKNOWN, token="wrong")))
    edge.proc.check_alive()


if __name__ == "__main__":
    run(main, "oracle", deadline=30)
