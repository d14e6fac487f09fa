# core/: the lazily re-armed timer and the join of child coroutines.
dialback_add_test(core_test
  SOURCES deadline_test.cpp task_group_test.cpp
  LIBS dialback_core)
