#!/usr/bin/env bash
# Times the rows of issue 13 for two builds of the library, alternated run by run (old, new, new with the fast path off),
# so that the machine's drift falls on both alike. Usage: tools/timing/compare/compare.sh BASE_COMMIT [ROUNDS]
# Prints one line per run: cores, row, round, build, median ms; summarise with summarise.py.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
base=${1:?base commit}
rounds=${2:-5}
work=$(mktemp -d)
git -C "$repo" worktree add --detach "$work/base" "$base" > /dev/null
trap 'git -C "$repo" worktree remove --force "$work/base"; rm -rf "$work"' EXIT
# A base from before the renames of issue 14 (its decoding class is still Generator) needs OLD_API; later bases do not.
old_api=$(git -C "$work/base" grep -q "class Generator" -- src 2>/dev/null && echo true || echo false)
dotnet build "$here/compare.csproj" -c Release -o "$work/old" -p:Lib="$work/base" -p:OldApi="$old_api" > /dev/null
dotnet build "$here/compare.csproj" -c Release -o "$work/new" -p:Lib="$repo" > /dev/null
for cores in 1 2; do
  pin=$([ "$cores" = 1 ] && echo "0" || echo "0,1")
  for row in mha_fused encoder_layer encoder_layer_into_result fused_attention_2048x64 decode_cache_128; do
    for round in $(seq "$rounds"); do
      for build in old new readable; do
        if [ "$build" = readable ]; then
          case $row in fused_attention_2048x64|encoder_layer_into_result) continue;; esac
          t=$(READABLE=1 taskset -c "$pin" dotnet "$work/new/compare.dll" "$row" 2>/dev/null | cut -f2)
        else
          t=$(taskset -c "$pin" dotnet "$work/$build/compare.dll" "$row" 2>/dev/null | cut -f2)
        fi
        printf '%s\t%s\t%s\t%s\t%s\n' "$cores" "$row" "$round" "$build" "$t"
      done
    done
  done
done
