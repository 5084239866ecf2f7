# Warnings for every vgpu target (../shared/STYLE.md §11). -Werror only when VGPU_WERROR is on (CI).
function(vgpu_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wshadow -Wconversion -Wformat=2 -Wimplicit-fallthrough
    # GCC 12 at -O3 reports std::string assignments (`s = "/"`) as overlapping memcpy: a false
    # positive in libstdc++'s inlined code (GCC bug 105329), printed in every Release build.
    $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>
    $<$<BOOL:${VGPU_WERROR}>:-Werror>)
endfunction()
