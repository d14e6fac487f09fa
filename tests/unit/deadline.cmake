dialback_add_test(deadline_test
  SOURCES deadline_test.cpp
  LIBS dialback_core)
