# The registration decision shared by every agent transport (edge/admission.hpp),
# and the ports and host names leased on demand (edge/allocation_table.hpp).
dialback_add_test(admission_test
  SOURCES admission_test.cpp allocation_table_test.cpp
  LIBS dialback_edge)
