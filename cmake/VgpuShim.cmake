# vgpu_add_shim(<target> OUTPUT_NAME <file> SONAME <soname> VERSION_SCRIPT <file> SOURCES <src...>
#               [DEFINITIONS <def...>] [LINK <static libs...>] [DEPENDS <generated targets...>])
#
# A shim is a shared library that a foreign process loads in place of an NVIDIA library, so:
# - it links nothing but glibc: libc.so.6, plus ld-linux-x86-64.so.2 (glibc's own loader, already in
#   every dynamically linked process) for the thread-locals of the static libstdc++; libstdc++ and
#   libgcc are linked statically and hidden;
# - every symbol is hidden unless the version script exports it (STYLE.md §9);
# - -z defs: an undefined reference is a link error here, not a "symbol lookup error" in the user's process;
# - no exceptions and no RTTI: nothing may unwind across the C ABI.
# OUTPUT_NAME is the file name without "lib" (e.g. "vgpu-cuda.so" -> libvgpu-cuda.so); the SONAME is the
# NVIDIA name the file stands in for.
function(vgpu_add_shim target)
  cmake_parse_arguments(S "" "OUTPUT_NAME;SONAME;VERSION_SCRIPT" "SOURCES;DEFINITIONS;LINK;DEPENDS" ${ARGN})
  add_library(${target} SHARED ${S_SOURCES})
  vgpu_set_warnings(${target})
  set_target_properties(${target} PROPERTIES
    PREFIX "lib" OUTPUT_NAME "${S_OUTPUT_NAME}" SUFFIX ""
    CXX_VISIBILITY_PRESET hidden C_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    NO_SONAME ON
    LINK_DEPENDS "${S_VERSION_SCRIPT}")
  target_compile_features(${target} PRIVATE cxx_std_20)
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions -fno-rtti> -fno-strict-aliasing)
  target_compile_definitions(${target} PRIVATE ${S_DEFINITIONS})
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/shims/include ${PROJECT_SOURCE_DIR}/shims/common
                                               ${CMAKE_CURRENT_BINARY_DIR})
  target_link_libraries(${target} PRIVATE ${S_LINK})
  target_link_options(${target} PRIVATE
    $<$<LINK_LANGUAGE:CXX>:-static-libstdc++> -static-libgcc -Wl,-z,defs -Wl,-z,now -Wl,--exclude-libs,ALL
    "-Wl,-soname,${S_SONAME}" "-Wl,--version-script,${S_VERSION_SCRIPT}")
  if(S_DEPENDS)
    add_dependencies(${target} ${S_DEPENDS})
  endif()
  install(TARGETS ${target} LIBRARY DESTINATION ${VGPU_SHIM_INSTALL_DIR})
endfunction()
