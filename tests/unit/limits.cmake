dialback_add_test(limits_test SOURCES limits_test.cpp LIBS dialback_core)
