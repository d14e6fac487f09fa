# The edge's tunnel-failure pages (edge/error_page.hpp): status, text, access-log reason.
dialback_add_test(error_page_test SOURCES error_page_test.cpp LIBS dialback_edge)
