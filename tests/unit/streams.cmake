# The stream contract (tests/support/fake_streams.hpp) held against the fakes
# and a real HTTP/2 stream pair, and the stream machinery tested over the
# fakes: StreamBridge, the body pump, the byte relay (loopback TCP on its
# socket side), IdleTimeoutStream and RequestForwarder.
dialback_add_test(stream_contract_test
  SOURCES
    stream_contract_test.cpp
    stream_bridge_test.cpp
    stream_pump_test.cpp
    stream_relay_test.cpp
    idle_timeout_stream_test.cpp
    request_forwarder_test.cpp
  LIBS dialback_test_support dialback_edge
  TIMEOUT 60)
