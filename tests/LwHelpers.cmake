# Helpers that every tests/ subfolder uses, so test registration looks the same everywhere.
# SPDX-License-Identifier: Apache-2.0

# lw_add_unit_test(NAME SOURCES a.c b.c LIBS lib1 lib2)
# One cmocka program per module (OpenVPN habit); registered with ctest under label "unit".
function(lw_add_unit_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  if(LW_FUZZ)
    return()
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit
    ENVIRONMENT "LW_SOURCE_DIR=${CMAKE_SOURCE_DIR};LW_BUILD_DIR=${CMAKE_BINARY_DIR}")
endfunction()

# lw_add_fuzzer(NAME SOURCES a.c LIBS lib1)
# A libFuzzer harness; its seed corpus lives in tests/fuzz/corpus/NAME. Under ctest it runs
# LW_FUZZ_SECONDS on a scratch copy of the corpus so the committed seeds never change.
function(lw_add_fuzzer name)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  if(NOT LW_FUZZ)
    return()
  endif()
  add_executable(${name} ${F_SOURCES})
  target_link_libraries(${name} PRIVATE ${F_LIBS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  set(corpus ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name})
  add_test(NAME ${name}
    COMMAND ${CMAKE_SOURCE_DIR}/tests/fuzz/run-fuzzer $<TARGET_FILE:${name}> ${corpus} ${LW_FUZZ_SECONDS})
  set_tests_properties(${name} PROPERTIES LABELS fuzz)
endfunction()
