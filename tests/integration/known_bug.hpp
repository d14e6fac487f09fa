// Tests of known product bugs: written so that they pass once the bug is
// fixed, and skipped with the cause until then. DIALBACK_RUN_KNOWN_BUGS=1
// runs them anyway, to check a fix.
#pragma once

#include <cstdlib>

#include <gtest/gtest.h>

#define SKIP_KNOWN_BUG(reason)                                                     \
  if (std::getenv("DIALBACK_RUN_KNOWN_BUGS") == nullptr) {                         \
    GTEST_SKIP() << "known bug (DIALBACK_RUN_KNOWN_BUGS=1 runs it): " << (reason); \
  }
