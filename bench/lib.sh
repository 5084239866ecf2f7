# Shared by the bench scripts (sourced): timing one run and taking the median of several.
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
time_us() {  # time_us CMD...: wall time of one run in microseconds, output discarded, status ignored
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1 || true
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000))
}
