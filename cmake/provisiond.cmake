# provisiond_library(<name> SOURCES ... DEPS ...) declares provisiond_<name>
# with the alias provisiond::<name>. Sources are listed by hand.
function(provisiond_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(provisiond_${name} STATIC ${ARG_SOURCES})
  add_library(provisiond::${name} ALIAS provisiond_${name})
  target_include_directories(provisiond_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(provisiond_${name} PRIVATE -Wall -Wextra)
  target_link_libraries(provisiond_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# provisiond_test(<name> LABEL <label> SOURCES ... DEPS ...) builds one gtest binary
# and registers each of its tests with ctest under the given label.
function(provisiond_test name)
  cmake_parse_arguments(ARG "SERIAL" "LABEL;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE -Wall -Wextra)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest_main)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  # SERIAL: tests that start many processes run alone (ctest -j2 runs no
  # other test beside them).
  set(serial FALSE)
  if(ARG_SERIAL)
    set(serial TRUE)
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT} RUN_SERIAL ${serial}
    DISCOVERY_TIMEOUT 60)
endfunction()
