"""Summarise a py-spy `--format raw` (collapsed stacks) file: where the samples went.

`python -m bench.profile_summary bench/results/profiles/full_mix-main-web.txt`
prints the share of samples spent inside each project function (inclusive) and the top leaf
frames (self time), so the biggest cost can be read without opening the flame graph.
"""

from __future__ import annotations

import collections
import sys


def summarise(path: str, top: int = 25) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    leaf: collections.Counter[str] = collections.Counter()
    total = 0
    idle = 0
    for line in open(path, errors="replace"):
        stack, _, count_text = line.rstrip("\n").rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        last = frames[-1]
        if any(
            word in last
            for word in (
                "select (",
                "poll (",
                "wait (",
                "accept (",
                "sleep",
                "recv_into (",
                "_wait_for_tstate_lock",
                "epoll",
            )
        ):
            idle += count
        leaf[last] += count
        seen = set()
        for frame in frames:
            name = (
                frame.split(" (")[0] + " (" + frame.split(" (")[-1].split(":")[0] + ")"
                if " (" in frame
                else frame
            )
            if name not in seen and frame.split(" (")[-1].startswith(
                ("relay/", "contacts/", "marketplace/", "config/")
            ):
                seen.add(name)
                inclusive[name] += count
    lines = [f"{path}: {total} samples, {idle} idle-looking leaf samples"]
    lines.append("project functions, inclusive share of all samples:")
    for name, count in inclusive.most_common(top):
        lines.append(f"  {100 * count / total:5.1f}%  {name}")
    lines.append("leaf frames (self):")
    for name, count in leaf.most_common(top):
        lines.append(f"  {100 * count / total:5.1f}%  {name[:150]}")
    return "\n".join(lines)


if __name__ == "__main__":
    for file in sys.argv[1:]:
        print(summarise(file))
