dialback_add_test(backoff_test SOURCES backoff_test.cpp LIBS dialback_agent)
