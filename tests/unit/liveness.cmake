dialback_add_test(liveness_test
  SOURCES liveness_test.cpp
  LIBS dialback_h2)
