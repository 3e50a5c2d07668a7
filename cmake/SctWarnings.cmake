# sct_options: C++17 and warnings, applied to the project's own targets only.
add_library(sct_options INTERFACE)
# C++17; LibTorch 2.12 and later need C++20 in any file that includes ATen (set in
# SctDependencies.cmake, which runs first).
if(NOT SCT_CXX_STANDARD)
  set(SCT_CXX_STANDARD 17)
endif()
target_compile_features(sct_options INTERFACE cxx_std_${SCT_CXX_STANDARD})
target_compile_options(sct_options INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wno-unused-parameter>)
target_include_directories(sct_options INTERFACE ${PROJECT_SOURCE_DIR})
set(CMAKE_CXX_EXTENSIONS OFF)
