#!/usr/bin/env bash
# exec_hook_test.sh HOOK CC WORKDIR SCENARIO
# Runs exec_fixture.c (compiled here, now) under LD_PRELOAD=HOOK with the environment a vgpu process has
# (LD_PRELOAD=HOOK, LD_LIBRARY_PATH=<shim dir>, VGPU_FOO=bar), lets it start print_env the way SCENARIO
# says, and compares what print_env prints (its arguments, then its environment in order) with what the
# hook must hand it. With VGPU_LOG unset nothing may appear on stderr. Exit 77: cannot run here (skipped).
set -euo pipefail
hook=${1:?} cc=${2:?} work=${3:?} scenario=${4:?}
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $scenario: $*" >&2; exit 1; }

rm -rf "$work" && mkdir -p "$work/bin"
# What the hook records as the shim dir: the realpath'd directory it was loaded from.
shim=$(cd "$(dirname "$hook")" && pwd -P)
printer=$work/bin/print_env
path=$work/bin:/usr/bin:/bin
"$cc" -std=c11 -Wall -Wextra -Werror -o "$work/exec_fixture" "$here/exec_fixture.c"
"$cc" -std=c11 -Wall -Wextra -Werror -o "$printer" -x c - <<'C'
#include <stdio.h>
#include <string.h>
extern char** environ;
int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--quiet") == 0) return 0;
  printf("argv:");
  for (int i = 1; i < argc; i++) printf(" %s", argv[i]);
  printf("\n");
  for (char** e = environ; e && *e; e++) printf("%s\n", *e);
  return 0;
}
C

# run MODE [VAR=value...]: the fixture under the hook; stdout to $work/out, stderr to $work/err.
run() {
  local mode=$1
  shift
  env -i PATH="$path" LD_PRELOAD="$hook" LD_LIBRARY_PATH="$shim" VGPU_FOO=bar "$@" \
    "$work/exec_fixture" "$mode" "$printer" >"$work/out" 2>"$work/err" ||
    fail "exit $?: $(cat "$work/out" "$work/err")"
}

# expect LINE...: print_env's output, exactly.
expect() {
  printf '%s\n' "$@" >"$work/expected"
  diff -u "$work/expected" "$work/out" >&2 || fail "the child's arguments and environment differ (above)"
}

quiet() { [[ ! -s $work/err ]] || fail "stderr is not empty with VGPU_LOG unset: $(cat "$work/err")"; }

# The environment exec_fixture hands over: LD_LIBRARY_PATH=/other:<shim>, KEEP=1; repaired:
repaired=("argv: one two" "LD_LIBRARY_PATH=$shim:/other" "KEEP=1" "LD_PRELOAD=$hook" "VGPU_FOO=bar")
# What a program that changed its own environment hands over through environ, repaired:
unset_repaired=("argv: one two" "PATH=$path" "LD_LIBRARY_PATH=$shim" "LD_PRELOAD=$hook" "VGPU_FOO=bar")
# The log line of a repaired execve of that environment, the pid replaced by PID.
log_line() {
  echo "vgpu[exec PID] info: execve $printer: LD_PRELOAD: unset -> \"$hook\"; LD_LIBRARY_PATH:" \
       "\"/other:$shim\" -> \"$shim:/other\"; added $*"
}
strip_pid() { sed -E 's/^vgpu\[exec [0-9]+\]/vgpu[exec PID]/' "$1"; }

case $scenario in
  execve | execle | execvpe | fexecve | execveat | posix_spawn | posix_spawnp)
    run "$scenario"
    expect "${repaired[@]}"
    quiet ;;
  execv-clearenv)
    run "$scenario"
    expect "argv: one two" "KEEP=1" "LD_LIBRARY_PATH=$shim:/other" "LD_PRELOAD=$hook" "VGPU_FOO=bar"
    quiet ;;
  execvp-unsetenv | execl-unsetenv | execlp-unsetenv)
    run "$scenario"
    expect "${unset_repaired[@]}"
    quiet ;;
  override)  # a VGPU_* value the caller set wins over the recorded one
    run override
    expect "argv: one two" "VGPU_FOO=mine" "KEEP=1" "LD_PRELOAD=$hook" "LD_LIBRARY_PATH=$shim"
    quiet ;;
  none-needed)  # nothing to repair: the environment arrives as it was given, order included
    run none-needed
    expect "argv: one two" "KEEP=1" "LD_PRELOAD=$hook" "VGPU_FOO=bar" "LD_LIBRARY_PATH=$shim:/x"
    quiet ;;
  disabled)  # VGPU_EXEC_DISABLE=1: passed through untouched
    run execve VGPU_EXEC_DISABLE=1
    expect "argv: one two" "LD_LIBRARY_PATH=/other:$shim" "KEEP=1"
    quiet ;;
  big-env)  # larger than the hook builds on its stack: the mmap path
    run big-env
    expect "argv: one two" "LD_LIBRARY_PATH=$shim:/$(head -c 40960 /dev/zero | tr '\0' x)" "KEEP=1" \
           "LD_PRELOAD=$hook" "VGPU_FOO=bar"
    quiet ;;
  vfork)
    run vfork
    grep -qx "vfork: 64 children, mapped pages unchanged (.*)" "$work/out" || fail "$(cat "$work/out")"
    quiet ;;
  exec-fail)
    run exec-fail
    expect "execve small env: -1 ENOENT" "execve big env: -1 ENOENT, mapped pages unchanged" \
           "posix_spawn: ENOENT"
    quiet ;;
  python-subprocess)  # CPython's subprocess: vfork, then execve in the child, through libc
    python=$(command -v python3) || { echo "SKIP: no python3"; exit 77; }
    env -i PATH="$path" LD_PRELOAD="$hook" LD_LIBRARY_PATH="$shim" VGPU_FOO=bar "$python" -c '
import subprocess, sys
subprocess.run([sys.argv[1], "one", "two"], env={"LD_LIBRARY_PATH": "/other:" + sys.argv[2], "KEEP": "1"},
               check=True)' "$printer" "$shim" >"$work/out" 2>"$work/err" || fail "python: $(cat "$work/err")"
    expect "${repaired[@]}"
    quiet ;;
  log-info)
    run execve VGPU_LOG=info
    expect "${repaired[@]}" "VGPU_LOG=info"
    [[ $(wc -l <"$work/err") -eq 1 ]] || fail "expected one log line, got: $(cat "$work/err")"
    diff -u <(log_line VGPU_FOO VGPU_LOG) <(strip_pid "$work/err") >&2 || fail "log line differs (above)" ;;
  log-vars-only)  # only a variable was missing: the line names it alone
    run none-needed VGPU_LOG=info
    expect "argv: one two" "KEEP=1" "LD_PRELOAD=$hook" "VGPU_FOO=bar" "LD_LIBRARY_PATH=$shim:/x" "VGPU_LOG=info"
    diff -u <(echo "vgpu[exec PID] info: execve $printer: added VGPU_LOG") <(strip_pid "$work/err") >&2 ||
      fail "log line differs (above)" ;;
  log-file)
    run execve VGPU_LOG=info VGPU_LOG_FILE="$work/log"
    [[ ! -s $work/err ]] || fail "stderr is not empty with VGPU_LOG_FILE set: $(cat "$work/err")"
    diff -u <(log_line VGPU_FOO VGPU_LOG VGPU_LOG_FILE) <(strip_pid "$work/log") >&2 ||
      fail "log file differs (above)" ;;
  log-debug)  # the hook in the fixture and in print_env each say what it recorded
    run posix_spawn VGPU_LOG=debug
    recorded="debug: recorded LD_PRELOAD entries: $hook; shim dir: $shim; VGPU_* variables: 2"
    [[ $(grep -cF "$recorded" "$work/err") -eq 2 ]] ||
      fail "expected two '$recorded' lines: $(cat "$work/err")"
    [[ $(grep -c '] info: posix_spawn ' "$work/err") -eq 1 ]] ||
      fail "expected one info line: $(cat "$work/err")" ;;
  *)
    echo "unknown scenario $scenario" >&2
    exit 2 ;;
esac
echo "ok: $scenario"
