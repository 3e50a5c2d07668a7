# sct_options: C++17 and warnings, applied to the project's own targets only.
add_library(sct_options INTERFACE)
target_compile_features(sct_options INTERFACE cxx_std_17)
target_compile_options(sct_options INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wno-unused-parameter>)
target_include_directories(sct_options INTERFACE ${PROJECT_SOURCE_DIR})
set(CMAKE_CXX_EXTENSIONS OFF)
