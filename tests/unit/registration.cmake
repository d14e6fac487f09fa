dialback_add_test(registration_test
  SOURCES registration_test.cpp registration_response_test.cpp
  LIBS dialback_tunnel)
