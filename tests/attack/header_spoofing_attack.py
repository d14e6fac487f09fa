#!/usr/bin/python3
"""Attack: a public client that is not a trusted proxy spoofs the
forwarding headers (X-Forwarded-For, X-Real-IP, Forwarded,
X-Forwarded-Host, X-Forwarded-Proto) over HTTP/1.1 and h2c; and probes the
edge's own error pages for reflected input and guessable request ids.

Asserted:
  - with the default public.trusted_proxies (empty) the local service sees
    none of the spoofed values: X-Forwarded-For is exactly 127.0.0.1,
    X-Real-IP 127.0.0.1, Forwarded starts with for=127.0.0.1, X-Forwarded-Host
    app.test, X-Forwarded-Proto http;
  - error pages (unknown host -> 404, tunnel with no agent -> 503) carry
    X-Content-Type-Options: nosniff, contain the request id, and contain
    neither the Host value nor the tunnel name;
  - 50 request ids (X-Request-Id of 404 pages) are distinct, each has at
    least 16 hex digits, and they do not all share their first 8 characters
    (no fixed-prefix + counter pattern);
  - with public.trusted_proxies: [127.0.0.1/32] an incoming X-Forwarded-For
    is extended: "6.6.6.6, 127.0.0.1".
"""
import re

from attack_lib import check, h2c_request, http_get, log, request_fields, run

SPOOF = [("X-Forwarded-For", "6.6.6.6"), ("X-Real-IP", "6.6.6.6"), ("Forwarded", "for=6.6.6.6"),
         ("X-Forwarded-Host", "evil.test"), ("X-Forwarded-Proto", "https")]
GHOST_TUNNEL = "ghosttunnel"
GHOST_HOST = "ghost-host.test"


def check_not_spoofed(record, via):
    headers = record.headers
    leaked = [(k, v) for k, v in headers if "6.6.6.6" in v or "evil.test" in v]
    check(not leaked, f"{via}: spoofed values reached the service: {leaked}")
    xff = record.header_values("X-Forwarded-For")
    check(xff == ["127.0.0.1"], f"{via}: X-Forwarded-For at the service is {xff}, "
                                f"expected exactly ['127.0.0.1']")
    real_ip = record.header_values("X-Real-IP")
    check(real_ip == ["127.0.0.1"], f"{via}: X-Real-IP at the service is {real_ip}, "
                                    f"expected ['127.0.0.1']")
    forwarded = record.header_values("Forwarded")
    check(len(forwarded) == 1 and forwarded[0].startswith("for=127.0.0.1"),
          f"{via}: Forwarded at the service is {forwarded}, expected one 'for=127.0.0.1...'")
    xfh = record.header_values("X-Forwarded-Host")
    check(xfh == ["app.test"], f"{via}: X-Forwarded-Host at the service is {xfh}")
    xfp = record.header_values("X-Forwarded-Proto")
    check(xfp == ["http"], f"{via}: X-Forwarded-Proto at the service is {xfp}")


def check_error_page(response, expected_status, host, what):
    check(response.status == expected_status,
          f"{what}: expected {expected_status}, got {response.status}")
    nosniff = response.header("X-Content-Type-Options")
    check(nosniff is not None and nosniff.lower() == "nosniff",
          f"{what}: X-Content-Type-Options is {nosniff!r}, expected nosniff")
    body = response.body.decode("utf-8", "replace")
    check(host not in body, f"{what}: the body reflects the Host value {host!r}: {body!r}")
    check(GHOST_TUNNEL not in body, f"{what}: the body names the tunnel: {body!r}")
    request_id = response.header("X-Request-Id")
    check(request_id, f"{what}: no X-Request-Id header")
    check(request_id in body, f"{what}: the body does not contain the request id "
                              f"{request_id!r}: {body!r}")


def spoofing(edge, service):
    response = http_get(edge.public_port, path="/spoof-h1", headers=SPOOF)
    check(response.status == 200, f"spoofed HTTP/1.1 request: {response.status}")
    records = service.requests("/spoof-h1")
    check(len(records) == 1, f"service saw {len(records)} /spoof-h1 requests")
    check_not_spoofed(records[0], "HTTP/1.1")
    kind, status, _, _ = h2c_request(
        edge.public_port,
        request_fields(path="/spoof-h2", extra=[(k.lower(), v) for k, v in SPOOF]))
    check(kind == "status" and status == 200, f"spoofed h2c request: {kind} {status}")
    records = service.requests("/spoof-h2")
    check(len(records) == 1, f"service saw {len(records)} /spoof-h2 requests")
    check_not_spoofed(records[0], "h2c")
    log("spoofed forwarding headers: none reached the service")


def error_pages(edge):
    check_error_page(http_get(edge.public_port, host="nope.test", path="/x"), 404, "nope.test",
                     "unknown host (HTTP/1.1)")
    check_error_page(http_get(edge.public_port, host=GHOST_HOST, path="/x"), 503, GHOST_HOST,
                     "tunnel with no agent (HTTP/1.1)")
    kind, status, headers, body = h2c_request(
        edge.public_port, request_fields(authority="nope.test", path="/x"))
    check(kind == "status" and status == 404, f"unknown host over h2c: {kind} {status}")
    h2_headers = dict(headers)
    check(h2_headers.get("x-content-type-options") == "nosniff",
          f"h2c 404 page: x-content-type-options is {h2_headers.get('x-content-type-options')!r}")
    check(b"nope.test" not in body, f"h2c 404 page reflects the host: {body!r}")
    check(h2_headers.get("x-request-id", "\0").encode() in body,
          f"h2c 404 page: the body does not contain the request id: {body!r}")
    log("error pages: nosniff, request id in the body, no reflected host or tunnel name")


def request_ids(edge):
    ids = []
    for i in range(50):
        ids.append(http_get(edge.public_port, host="nope.test", path=f"/id{i}")
                   .header("X-Request-Id") or "")
    log(f"request ids, first three: {ids[:3]}")
    check(len(set(ids)) == 50, f"request ids are not all distinct: {len(set(ids))} of 50")
    for rid in ids:
        hex_digits = len(re.findall(r"[0-9a-fA-F]", rid))
        check(re.fullmatch(r"[0-9a-fA-F-]+", rid) and hex_digits >= 16,
              f"request id {rid!r} is not at least 16 hex digits")
    check(len({rid[:8] for rid in ids}) > 1,
          f"all 50 request ids share the first 8 characters {ids[0][:8]!r} "
          f"(prefix + counter: guessable)")


def trusted_proxy(ctx, service):
    trusted = ctx.start_edge(name="edge-trusted", public_extra="trusted_proxies: [127.0.0.1/32]")
    ctx.start_agent(trusted, service.port, name="agent-trusted")
    ctx.wait_ready(trusted)
    response = http_get(trusted.public_port, path="/trusted",
                        headers=[("X-Forwarded-For", "6.6.6.6")])
    check(response.status == 200, f"request through a trusted proxy: {response.status}")
    xff = service.requests("/trusted")[0].header_values("X-Forwarded-For")
    log(f"trusted proxy: X-Forwarded-For at the service: {xff}")
    check(xff == ["6.6.6.6, 127.0.0.1"],
          f"trusted proxy: X-Forwarded-For at the service is {xff}, "
          f"expected ['6.6.6.6, 127.0.0.1']")


def main(ctx):
    service = ctx.service()
    ctx.make_pki()
    extra = (f"  {GHOST_TUNNEL}: {{hosts: [{GHOST_HOST}], "
             f"auth: {{tokens: [\"{ctx.token_hash}\"]}}}}\n")
    edge = ctx.start_edge(extra_tunnels=extra)
    ctx.start_agent(edge, service.port)
    ctx.wait_ready(edge)
    ctx.part("untrusted peer", spoofing, edge, service)
    ctx.part("error pages", error_pages, edge)
    ctx.part("request ids", request_ids, edge)
    ctx.part("trusted proxy", trusted_proxy, ctx, service)


if __name__ == "__main__":
    run(main, "header_spoofing", deadline=50)
