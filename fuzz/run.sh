#!/usr/bin/env bash
# Builds the libFuzzer targets (cmake -DMF_FUZZ=ON, clang, ASan + UBSan) into build-fuzz/ and
# runs each for SECONDS (default 60), one after the other, from its committed seed corpus
# (fuzz/corpus/<target>/, read only) plus a working corpus in build-fuzz/corpus/<target>/.
# Crash, timeout and out-of-memory inputs land in build-fuzz/crashes/<target>/; add a
# minimized one to fuzz/corpus/<target>/ once fixed, and ctest's fuzz_replay keeps it a test.
#
#     bash fuzz/run.sh [SECONDS] [TARGET...]      e.g. bash fuzz/run.sh 60 idx config
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(config override idx textio uci_har outputs flags cache)
seconds=60
if [ $# -gt 0 ]; then
  seconds=$1
  shift
fi
case "$seconds" in
  '' | *[!0-9]* | 0 | 0*) # 0 would be libFuzzer's "no time limit"
    echo "fuzz/run.sh: SECONDS must be a whole number from 1, not '$seconds'" >&2; exit 2 ;;
esac
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=("${all_targets[@]}"); fi
for t in "${targets[@]}"; do
  case " ${all_targets[*]} " in
    *" $t "*) ;;
    *) echo "fuzz/run.sh: unknown target '$t' (one of: ${all_targets[*]})" >&2; exit 2 ;;
  esac
done

# The longest input worth trying per target: a config or a UCI-HAR folder needs a few KiB,
# an override line or a flag string far less.
max_len_of() {
  case "$1" in
    config | uci_har | cache) echo 8192 ;;
    idx | textio | outputs) echo 4096 ;;
    override | flags) echo 512 ;;
  esac
}

build=build-fuzz
# clang may warn where gcc does not: warnings stay warnings here (the normal build keeps -Werror)
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DMF_FUZZ=ON \
  -DMF_WERROR=OFF -DBUILD_TESTING=OFF
build_targets=()
for t in "${targets[@]}"; do build_targets+=(--target "fuzz_$t"); done
cmake --build "$build" -j2 "${build_targets[@]}"

status=0
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"
  crashes="$build/crashes/$t"
  mkdir -p "$corpus" "$crashes"
  echo "fuzz/run.sh: fuzz_$t for $seconds s; crash inputs go to $crashes/"
  # leaks are not crashes here (LeakSanitizer needs ptrace, which some sandboxes refuse)
  if ! ASAN_OPTIONS=detect_leaks=0 "$build/fuzz/fuzz_$t" "$corpus" "fuzz/corpus/$t" \
    -max_total_time="$seconds" -max_len="$(max_len_of "$t")" -rss_limit_mb=2048 \
    -malloc_limit_mb=512 -timeout=10 -print_final_stats=1 -artifact_prefix="$crashes/"; then
    echo "fuzz/run.sh: fuzz_$t stopped on a finding; see $crashes/" >&2
    status=1
  fi
done
exit $status
