"""The benchmark's plain pure-Python deferred acceptance, and the same as a whole process:
``python -m benchmarks.plain_da INSTANCE.json`` reads an instance file (the engine's command-line format,
every mentee and mentor with a ranking), solves it and prints ``{mentee: mentor}`` for the matched, as JSON.

It imports nothing but the standard library, so that as a process it pays only what any Python program
reading that file must: the reference the engine's command line is measured against.
"""

from __future__ import annotations

import json
import sys


def reference_deferred_acceptance(
    mentee_rankings: dict[str, list[str]], mentor_rankings: dict[str, list[str]], capacity: dict[str, int]
) -> dict[str, str]:
    """Plain, straightforward mentee-proposing deferred acceptance on id-keyed dicts."""
    rank = {m: {r: k for k, r in enumerate(lst)} for m, lst in mentor_rankings.items()}
    next_choice = dict.fromkeys(mentee_rankings, 0)
    held: dict[str, list[str]] = {m: [] for m in mentor_rankings}
    match: dict[str, str] = {}
    free = list(mentee_rankings)
    while free:
        r = free.pop()
        prefs = mentee_rankings[r]
        while next_choice[r] < len(prefs):
            m = prefs[next_choice[r]]
            next_choice[r] += 1
            if r not in rank[m] or capacity[m] == 0:
                continue
            held[m].append(r)
            match[r] = m
            if len(held[m]) <= capacity[m]:
                break
            worst = max(held[m], key=rank[m].__getitem__)
            held[m].remove(worst)
            del match[worst]
            if worst != r:
                free.append(worst)
                break
    return match


def main(path: str) -> int:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    mentee_rankings = {p["id"]: p["ranking"] for p in data["mentees"]}
    mentor_rankings = {p["id"]: p["ranking"] for p in data["mentors"]}
    capacity = {p["id"]: p.get("capacity", 1) for p in data["mentors"]}
    print(json.dumps(reference_deferred_acceptance(mentee_rankings, mentor_rankings, capacity), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
