dialback_add_test(routing_test
  SOURCES routing_test.cpp path_prefix_test.cpp hash_ring_test.cpp outlier_detector_test.cpp
  LIBS dialback_routing)
