"""``python -m matching.engine solve --mode stable|optimal INSTANCE.json``: solve an instance file, print JSON.

Exit status 0 on success, 2 on bad input (with a one-line message on stderr naming the problem).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Sequence
from itertools import chain, repeat
from typing import NoReturn

from .instance import Instance, InstanceError, MenteePrefs, MentorPrefs

# The solvers (and OR-Tools behind optimal mode) and why-not are imported when a command needs them.

INSTANCE_FORMAT = """\
instance file (JSON):
  {"mentees": [{"id": "r1", "ranking": ["a3", "a1"], "never": ["a2"]}, ...],
   "mentors": [{"id": "a1", "capacity": 2, "ranking": ["r2", "r1"], "accepting": true}, ...],
   "scores": {"r1": {"a1": 0.83, "a3": 0.41}, ...}}
  "ranking" (best first) may be absent on either side: that side then accepts everyone it has a
  score with, best score first, or, without "scores", everyone in id order. An empty ranking
  accepts nobody. Where "scores" is given only scored pairs are acceptable; optimal mode needs it.
"""


def _fail(message: str) -> NoReturn:
    raise InstanceError(message)


def _id(value: object, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        _fail(f"{what} must be a string or an integer, got {json.dumps(value)}")
    return str(value)


def _id_list(value: object, side: str, person_id: str, field: str) -> tuple[str, ...]:
    # The message is written only on failure: formatting one per list cost a tenth of a second at 56,000 people.
    if type(value) is list and set(map(type, value)) <= {str}:  # the usual case, checked at C speed
        return tuple(value)
    what = f"{side} {person_id!r} {field}"
    if not isinstance(value, list):
        _fail(f"{what} must be a list of ids")
    return tuple(_id(x, f"an entry of {what}") for x in value)


def _person_id(person: dict, side: str) -> str:
    value = person["id"]
    return value if type(value) is str else _id(value, f"a {side} id")


def _never(person: dict, side: str, person_id: str) -> frozenset:
    if "never" not in person:
        return _NOBODY
    return frozenset(_id_list(person["never"], side, person_id, "never"))


_NOBODY: frozenset = frozenset()
_MENTEE_KEYS = frozenset({"id", "ranking", "never"})
_MENTOR_KEYS = frozenset({"id", "capacity", "ranking", "never", "accepting"})


def _people(data: dict, side: str) -> list[dict]:
    people = data.get(side)
    if not isinstance(people, list):
        _fail(f'"{side}" must be a list' if side in data else f'missing "{side}"')
    if set(map(type, people)) <= {dict} and all(map(dict.__contains__, people, repeat("id"))):
        return people  # the usual case, checked at C speed
    for k, person in enumerate(people):
        if not isinstance(person, dict):
            _fail(f"{side}[{k}] must be an object")
        if "id" not in person:
            _fail(f'{side}[{k}] has no "id"')
    return people


def _loads(text: str) -> object:
    """JSON through orjson when it is installed (twice json's speed on a national-scale instance),
    through json for what orjson refuses and json reads (NaN, integers past 64 bits), and for its messages."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is in requirements.txt; the engine works without it
        return json.loads(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def parse_instance(text: str) -> Instance:
    try:
        data = _loads(text)
    except json.JSONDecodeError as exc:
        _fail(f"malformed JSON: {exc}")
    if not isinstance(data, dict):
        _fail("the instance must be a JSON object")
    unknown = sorted(set(data) - {"mentees", "mentors", "scores"})
    if unknown:
        _fail(f"unknown key {unknown[0]!r} (expected mentees, mentors, scores)")

    mentees = []
    for person in _people(data, "mentees"):
        person_id = _person_id(person, "mentee")
        if not person.keys() <= _MENTEE_KEYS:
            _fail(f"mentee {person_id!r}: unknown key {sorted(person.keys() - _MENTEE_KEYS)[0]!r}")
        ranking = person.get("ranking")
        mentees.append(
            MenteePrefs(
                person_id,
                ranking=None if ranking is None else _id_list(ranking, "mentee", person_id, "ranking"),
                never=_never(person, "mentee", person_id),
            )
        )
    mentors = []
    for person in _people(data, "mentors"):
        person_id = _person_id(person, "mentor")
        if not person.keys() <= _MENTOR_KEYS:
            _fail(f"mentor {person_id!r}: unknown key {sorted(person.keys() - _MENTOR_KEYS)[0]!r}")
        capacity = person.get("capacity", 1)
        if type(capacity) is not int:  # bool is not int here, as it must not be
            _fail(f"mentor {person_id!r}: capacity must be an integer, got {json.dumps(capacity)}")
        if capacity < 0:
            _fail(f"mentor {person_id!r}: negative capacity {capacity}")
        accepting = person.get("accepting", True)
        if type(accepting) is not bool:
            _fail(f"mentor {person_id!r}: accepting must be true or false")
        ranking = person.get("ranking")
        mentors.append(
            MentorPrefs(
                person_id,
                capacity=capacity,
                accepting=accepting,
                ranking=None if ranking is None else _id_list(ranking, "mentor", person_id, "ranking"),
                never=_never(person, "mentor", person_id),
            )
        )

    scores = None
    if "scores" in data and data["scores"] is not None:
        if not isinstance(data["scores"], dict):
            _fail('"scores" must be an object {mentee_id: {mentor_id: score}}')
        rows = data["scores"]
        if not set(map(type, rows.values())) <= {dict}:
            bad = next(mentee_id for mentee_id, row in rows.items() if not isinstance(row, dict))
            _fail(f"scores for mentee {bad!r} must be an object {{mentor_id: score}}")
        if not set(map(type, chain.from_iterable([row.values() for row in rows.values()]))) <= {float, int}:
            for mentee_id, row in rows.items():
                for mentor_id, value in row.items():
                    if isinstance(value, bool) or not isinstance(value, int | float):
                        _fail(f"score of {mentee_id!r} × {mentor_id!r} must be a number, got {json.dumps(value)}")
        scores = rows  # fresh from the JSON: nobody else holds it, no copy needed

    instance = Instance(mentees=mentees, mentors=mentors, scores=scores)
    instance.prepared  # noqa: B018 - validates ids, rankings and scores now, so errors surface here
    return instance


_ENCODE_STR = json.encoder.encode_basestring_ascii  # C, as json.dumps uses
_SCALARS = {str: _ENCODE_STR, int: int.__repr__, bool: lambda v: "true" if v else "false", type(None): lambda v: "null"}


def _float(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        return json.dumps(value)  # NaN, Infinity: as json.dumps writes them
    return float.__repr__(value)


def pretty_json(value: object) -> str:
    """Exactly ``json.dumps(value, indent=2)`` for dicts with str keys, lists, str, int, float, bool
    and None, several times faster: json.dumps leaves its C encoder behind when it indents."""
    parts: list[str] = []
    append = parts.append
    scalars = {**_SCALARS, float: _float}

    def write(item: object, pad: str) -> None:
        encode = scalars.get(type(item))
        if encode is not None:
            append(encode(item))
            return
        inner = pad + "  "
        if isinstance(item, dict):
            if not item:
                append("{}")
                return
            append("{")
            first = True
            for key, child in item.items():
                if not isinstance(key, str):
                    raise TypeError(f"pretty_json: keys must be str, got {key!r}")
                append(("\n" if first else ",\n") + inner + _ENCODE_STR(key) + ": ")
                first = False
                write(child, inner)
            append("\n" + pad + "}")
        elif isinstance(item, list | tuple):
            if not item:
                append("[]")
                return
            append("[")
            first = True
            for child in item:
                append(("\n" if first else ",\n") + inner)
                first = False
                write(child, inner)
            append("\n" + pad + "]")
        elif isinstance(item, str):  # subclasses (a StrEnum), as json.dumps writes them
            append(_ENCODE_STR(item))
        elif isinstance(item, int):
            append(int.__repr__(item))
        elif isinstance(item, float):
            append(_float(item))
        else:
            raise TypeError(f"pretty_json: cannot write {type(item).__name__}")

    write(value, "")
    return "".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m matching.engine",
        description="MentorMatch matching engine: solve an instance file without Django.",
        epilog=INSTANCE_FORMAT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    solve = commands.add_parser(
        "solve",
        help="match mentees to mentors and print the result as JSON",
        description="Match mentees to mentors and print the result as JSON.",
        epilog=INSTANCE_FORMAT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    solve.add_argument(
        "--mode",
        choices=("stable", "optimal"),
        required=True,
        help="stable: resident-proposing deferred acceptance; optimal: most matches, then highest total score",
    )
    solve.add_argument("--why-not", action="store_true", help="add a reason for each unmatched mentee")
    solve.add_argument("instance", metavar="INSTANCE.json", help='instance file, or "-" for standard input')
    args = parser.parse_args(argv)
    # Millions of lists, dicts and strings are made and none is ever garbage: the cyclic collector would only
    # walk them again and again (a third of the JSON decoding time). Off for the command, back as it was after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _solve(args)
    finally:
        if collecting:
            gc.enable()


def _solve(args: argparse.Namespace) -> int:
    try:
        if args.instance == "-":
            text = sys.stdin.read()
        else:
            with open(args.instance, encoding="utf-8") as handle:
                text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {args.instance}: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return 2
    try:
        instance = parse_instance(text)
        if args.mode == "optimal" and instance.scores is None:
            _fail('optimal mode needs "scores" in the instance')
        if args.mode == "optimal":
            from .optimal import solve_optimal

            result = solve_optimal(instance)
        else:
            from .stable import solve_stable

            result = solve_stable(instance)
    except InstanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    output = result.to_dict()
    if args.why_not:
        from .explain import why_not_unmatched

        output["why_not"] = why_not_unmatched(instance, result)
    sys.stdout.write(pretty_json(output))
    sys.stdout.write("\n")
    return 0
