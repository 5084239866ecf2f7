# Warnings for every vgpu target (../shared/STYLE.md §11). -Werror only when VGPU_WERROR is on (CI).
function(vgpu_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wshadow -Wconversion -Wformat=2 -Wimplicit-fallthrough
    $<$<BOOL:${VGPU_WERROR}>:-Werror>)
endfunction()
