# Compiler flags shared by every dialback target.
add_compile_options(-Wall -Wextra -Wpedantic -Wno-unused-parameter)
if(DIALBACK_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
