# The registration decision shared by every agent transport (edge/admission.hpp),
# the ports and host names leased on demand (edge/allocation_table.hpp), and
# the DevTunnel front end's wire and status page.
dialback_add_test(admission_test
  SOURCES admission_test.cpp allocation_table_test.cpp devtunnel_wire_test.cpp
  LIBS dialback_edge)
