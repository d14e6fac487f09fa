# Every dependency is a Debian 12 package installed by scripts/setup.
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS system)
find_package(OpenSSL 3 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(NGHTTP2 REQUIRED IMPORTED_TARGET libnghttp2>=1.52)
pkg_check_modules(NGTCP2 REQUIRED IMPORTED_TARGET libngtcp2>=0.12)
pkg_check_modules(NGTCP2_CRYPTO_GNUTLS REQUIRED IMPORTED_TARGET libngtcp2_crypto_gnutls>=0.12)
pkg_check_modules(NGHTTP3 REQUIRED IMPORTED_TARGET libnghttp3>=0.8)
pkg_check_modules(GNUTLS REQUIRED IMPORTED_TARGET gnutls>=3.7)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(tl-expected REQUIRED)
# msgpack-c for C++ (libmsgpack-cxx-dev 4.1.3, header-only), for the Reverst
# registration codec. Debian's package is "msgpack" (msgpack-config.cmake in
# cmake/msgpackc-cxx/), not the "msgpack-cxx" of later upstream releases; its
# target is msgpackc-cxx, which brings in Boost::boost (found above).
find_package(msgpack 4.1 CONFIG REQUIRED)
if(DIALBACK_TESTS)
  find_package(GTest REQUIRED)
endif()
# Optional: the engine micro-benchmarks (bench/engine) are built when it is found.
find_package(benchmark 1.7 QUIET)
