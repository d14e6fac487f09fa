# Compiler flags shared by every dialback target.
add_compile_options(-Wall -Wextra -Wpedantic -Wno-unused-parameter)
if(DIALBACK_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# Compressed debug sections. Every test executable links the whole library
# with its debug info: uncompressed, one build tree took 5.5 GB, and the
# test command builds two trees (plain and sanitized).
include(CheckCXXCompilerFlag)
check_cxx_compiler_flag(-gz DIALBACK_HAS_GZ)
if(DIALBACK_HAS_GZ)
  add_compile_options($<$<CONFIG:Debug,RelWithDebInfo>:-gz>)
  add_link_options($<$<CONFIG:Debug,RelWithDebInfo>:-gz>)
endif()
