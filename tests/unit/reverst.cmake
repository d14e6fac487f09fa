# The Reverst registration codec (transport/reverst), against vectors that
# python3-msgpack writes (reverst_vectors.py -> reverst_vectors.hpp).
dialback_add_test(reverst_registration_test
  SOURCES reverst_registration_test.cpp
  LIBS dialback_reverst)

# The committed vectors must be what the script prints: a change to either
# without regenerating the header fails here. Debian's python3, which has
# python3-msgpack (as the system tests' peers use it).
add_test(NAME reverst_vectors_current
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/reverst_vectors.py
          --check ${CMAKE_CURRENT_SOURCE_DIR}/reverst_vectors.hpp)
set_tests_properties(reverst_vectors_current PROPERTIES TIMEOUT 60)
