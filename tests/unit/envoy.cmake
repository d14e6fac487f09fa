# The Envoy reverse-tunnel handshake and RPING keepalive (transport/envoy).
dialback_add_test(envoy_handshake_test SOURCES envoy_handshake_test.cpp LIBS dialback_envoy)
