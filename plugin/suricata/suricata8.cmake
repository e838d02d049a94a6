# The Suricata 8 part of embargo.so: the `embargo` detection keyword
# (detect-sc8.c), built against an installed Suricata 8 (its headers and
# libsuricata-config, as scripts/build-suricata8.sh leaves them):
#   cmake -DSURICATA8_CONFIG=/var/cache/embargo/suricata-8.0.7/bin/libsuricata-config ...
# By default the build of scripts/build-suricata8.sh is used when it is complete
# ($EMBARGO_SURICATA8_PREFIX, else /var/cache/embargo/suricata-8.0.7). The module is
# build/plugin/suricata/sc8/embargo.so; it needs no linking against Suricata: its
# symbols resolve against the suricata executable that loads it.
# Sets EMBARGO_SURICATA8_PLUGIN and SURICATA8_PREFIX in the parent scope.

set(_sc8_prefix "$ENV{EMBARGO_SURICATA8_PREFIX}")
if(NOT _sc8_prefix)
  set(_sc8_prefix /var/cache/embargo/suricata-8.0.7)
endif()
set(_sc8_default "")
if(EXISTS ${_sc8_prefix}/.complete AND EXISTS ${_sc8_prefix}/bin/libsuricata-config)
  set(_sc8_default ${_sc8_prefix}/bin/libsuricata-config)
endif()
set(SURICATA8_CONFIG "${_sc8_default}" CACHE FILEPATH
    "libsuricata-config of a Suricata 8 build (scripts/build-suricata8.sh)")

set(EMBARGO_SURICATA8_PLUGIN OFF PARENT_SCOPE)
if(NOT SURICATA8_CONFIG OR NOT EXISTS ${SURICATA8_CONFIG})
  message(STATUS "Suricata 8 not found: the embargo keyword is skipped "
                 "(scripts/build-suricata8.sh builds it; or set SURICATA8_CONFIG)")
  return()
endif()

execute_process(COMMAND ${SURICATA8_CONFIG} --cflags OUTPUT_VARIABLE _sc8_cflags
                OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _sc8_rc)
separate_arguments(_sc8_cflags UNIX_COMMAND "${_sc8_cflags}")
set(_sc8_includes "")
set(_sc8_defs "")
foreach(flag ${_sc8_cflags})
  if(flag MATCHES "^-I(.+)")
    list(APPEND _sc8_includes ${CMAKE_MATCH_1})
  elseif(flag MATCHES "^-D(.+)")
    list(APPEND _sc8_defs ${CMAKE_MATCH_1})
  endif()
endforeach()
if(NOT _sc8_rc EQUAL 0 OR NOT _sc8_includes)
  message(FATAL_ERROR "${SURICATA8_CONFIG} --cflags gave no include directory")
endif()
list(GET _sc8_includes 0 _sc8_inc)
file(STRINGS ${_sc8_inc}/suricata-plugin.h _sc8_api REGEX "SC_API_VERSION = 0x")
if(NOT _sc8_api MATCHES "0x08")
  message(FATAL_ERROR "${_sc8_inc} is not Suricata 8 (SC_API_VERSION: ${_sc8_api})")
endif()
get_filename_component(_sc8_bin ${SURICATA8_CONFIG} DIRECTORY)
get_filename_component(_sc8_root ${_sc8_bin} DIRECTORY)

add_library(embargo_suricata8 MODULE detect-sc8.c detect-sc8-read.c detect-sc8-stream.c detect-sc8-tx.c sc8-pass.c sc8-state.c
            plugin-sc8.c)
# Suricata's headers are not written for -Wextra -Wshadow: SYSTEM silences them.
target_include_directories(embargo_suricata8 SYSTEM PRIVATE ${_sc8_includes})
target_include_directories(embargo_suricata8 PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
# app-layer-htp.h includes the HTTP parser's generated header, not installed: the names it
# needs (sc8-htp/htp/htp_rs.h).
target_include_directories(embargo_suricata8 SYSTEM PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/sc8-htp)
target_compile_definitions(embargo_suricata8 PRIVATE ${_sc8_defs}
  EMBARGO_INSTALL_RULES_DIR="${CMAKE_INSTALL_FULLDATADIR}/embargo/rules"
  EMBARGO_SOURCE_RULES_DIR="${PROJECT_SOURCE_DIR}/rules")
find_package(Threads REQUIRED)
target_link_libraries(embargo_suricata8 PRIVATE embargo_engine Threads::Threads)
set_target_properties(embargo_suricata8 PROPERTIES
  OUTPUT_NAME embargo PREFIX "" C_VISIBILITY_PRESET hidden
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/sc8
  LINK_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/embargo.map)
target_link_options(embargo_suricata8 PRIVATE
  -Wl,--version-script=${CMAKE_CURRENT_SOURCE_DIR}/embargo.map)
# Link-time optimisation of the plugin's own files in optimised builds: the small calls
# every packet makes from one file into another (sc8-pass.c into sc8-state.c and
# detect-sc8-stream.c) are inlined, so each packet touches fewer lines of code; on the
# benchmark's real mix, 8% fewer of the plugin's instructions and 15% fewer of its
# instruction-cache misses (bench/README.md, twelfth round). Not in sanitizer or fuzz builds.
include(CheckIPOSupported)
check_ipo_supported(RESULT _sc8_ipo LANGUAGES C)
if(_sc8_ipo AND NOT EMBARGO_SANITIZE AND NOT EMBARGO_FUZZ)
  set_target_properties(embargo_suricata8 PROPERTIES
    INTERPROCEDURAL_OPTIMIZATION_RELEASE ON
    INTERPROCEDURAL_OPTIMIZATION_RELWITHDEBINFO ON
    INTERPROCEDURAL_OPTIMIZATION_MINSIZEREL ON)
endif()

message(STATUS "Suricata 8 keyword: building sc8/embargo.so against ${_sc8_inc}")
set(EMBARGO_SURICATA8_PLUGIN ON PARENT_SCOPE)
set(SURICATA8_PREFIX ${_sc8_root} PARENT_SCOPE)
