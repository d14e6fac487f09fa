# The registration decision shared by every agent transport (edge/admission.hpp).
dialback_add_test(admission_test SOURCES admission_test.cpp LIBS dialback_edge)
