#!/usr/bin/env bash
# Fuzz the DCMTK shim with libFuzzer and AddressSanitizer for SECONDS (default 60).
# Seeds: the bundled samples. Crashing inputs are written to tools/fuzz/findings/ (not committed).
# Not part of `make test`: run by hand, e.g. `tools/fuzz/run.sh 600`.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
out=.build/fuzz
mkdir -p "$out/corpus" tools/fuzz/findings
find samples -name '*.dcm' -exec cp {} "$out/corpus/" \;
clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address -DHAVE_CONFIG_H -ISources/CDicomShim/include -I/usr/include/openjpeg-2.5 \
  Sources/CDicomShim/lbx_dicom.cpp Sources/CDicomShim/lbx_jpeg2000.cpp tools/fuzz/fuzz_dicom.cpp -o "$out/fuzz_dicom" \
  -ldcmjpls -ldcmtkcharls -ldcmjpeg -lijg8 -lijg12 -lijg16 -ldcmimage -ldcmimgle -ldcmdata -loflog -lofstd -lopenjp2
ASAN_OPTIONS=detect_leaks=1 "$out/fuzz_dicom" "$out/corpus" -max_total_time="$seconds" -rss_limit_mb=2048 \
  -max_len=262144 -artifact_prefix=tools/fuzz/findings/ -print_final_stats=1
