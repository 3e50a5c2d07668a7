# Configure summary: one line per optional feature with the reason.
message(STATUS "---------------- sct_dist configuration ----------------")
message(STATUS "Build type: ${CMAKE_BUILD_TYPE}; LibTorch ${Torch_VERSION}; MPI ${MPI_CXX_VERSION}; HDF5 ${HDF5_VERSION}")
foreach(line IN LISTS SCT_SUMMARY)
  message(STATUS "${line}")
endforeach()
message(STATUS "Tests: ${SCT_BUILD_TESTS}")
message(STATUS "--------------------------------------------------------")
