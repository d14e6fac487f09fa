# Configuration loading and validation (src/config).
dialback_add_test(config_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/config_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/config_edge_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/config_devtunnel_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/config_agent_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/config_agent_routes_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/config_edge_address_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/config_proxy_test.cpp
  LIBS dialback_config)
target_compile_definitions(config_test PRIVATE DIALBACK_EXAMPLES_DIR="${PROJECT_SOURCE_DIR}/examples")
