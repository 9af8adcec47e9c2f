"""Summarises compare.sh's output: per row and core count, the medians of each build and the ratio new/old run by run."""
import collections
import statistics
import sys

runs = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    parts = line.rstrip("\n").split("\t")
    if len(parts) == 5 and parts[4]:
        cores, row, rnd, build, ms = parts
        runs[(cores, row)].setdefault(rnd, {})[build] = float(ms)
print("| cores | row | 12a0ace (old) | now, default path | now, readable path | new/old median (range) | readable/old median (range) |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for (cores, row), rounds in runs.items():
    def med(build):
        values = [r[build] for r in rounds.values() if build in r]
        return f"{statistics.median(values):.2f} ms" if values else ""
    def ratio(build):
        values = [r[build] / r["old"] for r in rounds.values() if build in r and "old" in r]
        return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})" if values else ""
    print(f"| {cores} | {row} | {med('old')} | {med('new')} | {med('readable')} | {ratio('new')} | {ratio('readable')} |")
