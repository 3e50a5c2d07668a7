# The parser fuzz target, built with clang's libFuzzer (Debian: clang-14, libclang-rt-14-dev)
# by a custom command, since the rest of the project builds with the default compiler.
# Included from tests/model/CMakeLists.txt; the parsers need no LibTorch, so it stays small.
find_program(SCT_CLANGXX NAMES clang++-14 clang++)
set(SCT_FUZZ OFF)
if(SCT_CLANGXX)
  set(_probe ${CMAKE_CURRENT_BINARY_DIR}/fuzz_probe.cpp)
  file(WRITE ${_probe} "#include <cstdint>\n#include <cstddef>\nextern \"C\" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n")
  execute_process(COMMAND ${SCT_CLANGXX} -fsanitize=fuzzer,address ${_probe} -o ${CMAKE_CURRENT_BINARY_DIR}/fuzz_probe
                  RESULT_VARIABLE _fuzz_rc OUTPUT_QUIET ERROR_QUIET)
  if(_fuzz_rc EQUAL 0)
    set(SCT_FUZZ ON)
  endif()
endif()

if(SCT_FUZZ)
  set(_src ${PROJECT_SOURCE_DIR})
  set(_fuzz_sources
    ${_src}/tests/fuzz/fuzz_checkpoint.cpp
    ${_src}/framework/model/raw_tensor.cpp
    ${_src}/framework/model/npy.cpp
    ${_src}/framework/model/npz.cpp
    ${_src}/framework/model/safetensors.cpp
    ${_src}/framework/core/fs.cpp
    ${_src}/framework/core/error.cpp)
  set(_fuzz_bin ${PROJECT_BINARY_DIR}/bin/fuzz_checkpoint)
  set(_fuzz_includes)
  foreach(dir IN LISTS LIBZIP_INCLUDE_DIRS)
    list(APPEND _fuzz_includes -I${dir})
  endforeach()
  add_custom_command(OUTPUT ${_fuzz_bin}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/bin
    COMMAND ${SCT_CLANGXX} -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined
            -fno-sanitize-recover=undefined -I${_src} ${_fuzz_includes} ${_fuzz_sources}
            ${LIBZIP_LINK_LIBRARIES} -o ${_fuzz_bin}
    DEPENDS ${_fuzz_sources} ${_src}/framework/model/raw_tensor.h ${_src}/framework/model/npy.h
            ${_src}/framework/model/npz.h ${_src}/framework/model/safetensors.h ${_src}/framework/core/error.h
    COMMENT "Building fuzz_checkpoint (clang libFuzzer, ASan, UBSan)"
    VERBATIM)
  add_custom_target(fuzz_checkpoint ALL DEPENDS ${_fuzz_bin})
  sct_script_test(model_fuzz ${_src}/tests/fuzz/run_fuzz.sh LABEL fuzz TIMEOUT 180)
  message(STATUS "Parser fuzzing: on (${SCT_CLANGXX} with libFuzzer; ctest -L fuzz)")
else()
  message(STATUS "Parser fuzzing: off (needs clang++ with libFuzzer: Debian clang-14 and libclang-rt-14-dev)")
endif()
