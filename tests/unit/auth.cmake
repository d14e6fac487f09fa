# Tokens, Authorization parsing and the authorization decision.
dialback_add_test(auth_test SOURCES auth_test.cpp LIBS dialback_auth)
