# What an agent's TCP dial says before its session: the HTTP proxy's
# CONNECT (transport/http_proxy_connect, against a scripted proxy on
# loopback), and the Envoy reverse-tunnel handshake and RPING keepalive
# (transport/envoy).
dialback_add_test(handshake_test
  SOURCES http_proxy_connect_test.cpp envoy_handshake_test.cpp
  LIBS dialback_envoy dialback_test_support)
