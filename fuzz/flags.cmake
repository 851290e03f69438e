# -DPROVISIOND_FUZZ=ON: everything is compiled for libFuzzer with ASan and
# UBSan (a UBSan finding aborts, so libFuzzer keeps the input); the fuzz
# targets link libFuzzer's main (fuzz/CMakeLists.txt). Included by the top
# CMakeLists.txt before any module, so the code under test is instrumented.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "PROVISIOND_FUZZ needs clang (-DCMAKE_CXX_COMPILER=clang++); use ./dev fuzz")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
  -fno-omit-frame-pointer)
add_link_options(-fsanitize=address,undefined)
