# PKI (certificate generation, files), TLS contexts and TlsStream (real handshakes on 127.0.0.1).
dialback_add_test(pki_test SOURCES pki_test.cpp LIBS dialback_tls)
dialback_add_test(tls_test SOURCES tls_test.cpp LIBS dialback_tls)
dialback_add_test(tls_stream_test SOURCES tls_stream_test.cpp LIBS dialback_tls)
