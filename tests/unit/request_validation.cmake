# What the edge refuses before forwarding (src/http1/request_validation,
# src/http1/chunked_framing).
dialback_add_test(request_validation_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/request_validation_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/chunked_framing_test.cpp
  LIBS dialback_http1)
