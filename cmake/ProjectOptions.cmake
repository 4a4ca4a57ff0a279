# Warnings and sanitizers live on INTERFACE targets, linked by every target of ours.
add_library(pgibot_warnings INTERFACE)
target_compile_options(pgibot_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  $<$<BOOL:${PGIBOT_WERROR}>:-Werror>)

add_library(pgibot_sanitizers INTERFACE)
if(PGIBOT_SANITIZE)
  target_compile_options(pgibot_sanitizers INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(pgibot_sanitizers INTERFACE -fsanitize=address,undefined)
endif()

add_library(pgibot_options INTERFACE)
target_link_libraries(pgibot_options INTERFACE pgibot_warnings pgibot_sanitizers)
target_include_directories(pgibot_options INTERFACE ${PROJECT_SOURCE_DIR})
