# Compiler settings for websession's own targets. Nothing here touches global flags.
add_library(websession_build_flags INTERFACE)
target_compile_options(websession_build_flags INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough>
  $<$<BOOL:${WEBSESSION_WARNINGS_AS_ERRORS}>:-Werror>)
if(WEBSESSION_SANITIZE)
  target_compile_options(websession_build_flags INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(websession_build_flags INTERFACE -fsanitize=address,undefined)
endif()
# Fuzzing: websession's own code gets libFuzzer's coverage instrumentation (fuzzer-no-link) and
# AddressSanitizer and UndefinedBehaviorSanitizer; the fuzz targets themselves link libFuzzer
# (fuzz/CMakeLists.txt). Dependencies such as Boost.JSON stay as Debian built them.
if(WEBSESSION_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "WEBSESSION_FUZZ needs clang (configure with CC=clang CXX=clang++), not "
                        "${CMAKE_CXX_COMPILER_ID}")
  endif()
  # clang 14 cannot emit UBSan's `function` check in split coroutines ("Cannot represent a
  # difference across sections"); every other UBSan check stays.
  target_compile_options(websession_build_flags INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function -fno-sanitize-recover=all
    -fno-omit-frame-pointer -g)
  target_link_options(websession_build_flags INTERFACE -fsanitize=address,undefined -fno-sanitize=function)
endif()

# websession_library(<part> SOURCES ... DEPENDS ...): a library target websession_<part>, exported as
# websession::<part>, with the public headers under include/.
function(websession_library part)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPENDS;PRIVATE_DEPENDS" ${ARGN})
  set(target websession_${part})
  add_library(${target} ${ARG_SOURCES})
  add_library(websession::${part} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${part} OUTPUT_NAME websession_${part}
    POSITION_INDEPENDENT_CODE ON)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${target} PUBLIC ${ARG_PUBLIC_DEPENDS}
    PRIVATE ${ARG_PRIVATE_DEPENDS} $<BUILD_INTERFACE:websession_build_flags>)
  set_property(GLOBAL APPEND PROPERTY WEBSESSION_LIBRARY_TARGETS ${target})
endfunction()

# websession_test(<name> SOURCES ... LIBS ...): a GoogleTest executable registered with ctest.
function(websession_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main GTest::gmock
    websession_build_flags)
  set(labels ${ARG_LABELS})
  if(NOT labels)
    set(labels unit)
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${labels}")
endfunction()
