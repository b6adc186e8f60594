"""Which operation of the newer spec replaces one that left the older spec, and by what evidence.

`diff.diff_specs` already pairs an operation that disappeared with one that appeared under the same
method and path shape. Across API generations that is not enough: 3.x renamed terms throughout the API
(datasets became assets), so `/api/v1/datasets` and `/api/v2/assets` are the same resource under two
names. Each rule below is a piece of evidence a reader can check on the two paths or ids; a pair names
the rule that made it, and an operation no rule pairs stays removed (no replacement) or added.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from conformance.specs.diff import OperationRef, SpecDiff

SAME_PATH = "same method and path (relative to the API base)"


@dataclass(frozen=True)
class Pair:
    """An operation of spec A and the operation of spec B that takes its place."""

    old: OperationRef
    new: OperationRef
    how: str  # the evidence: which rule paired them
    rule: str = "path"  # the rule in one word: path, path+terms, id+terms


def rename_term(text: str, terms: tuple[tuple[str, str], ...]) -> str:
    """`text` with each renamed term replaced, in its lower, Capitalised and camelCase spellings."""
    for old, new in terms:
        text = text.replace(old, new).replace(old.capitalize(), new.capitalize())
        camel_old = re.sub(r"_(\w)", lambda m: m.group(1).upper(), old)
        if camel_old != old:
            text = text.replace(camel_old, re.sub(r"_(\w)", lambda m: m.group(1).upper(), new))
    return text


def _shape(path: str, base: str) -> str:
    """The path relative to its API base with parameter names dropped (`/dags/{}/dagRuns`)."""
    relative = path[len(base) :] if base and path.startswith(base + "/") else path
    return "/".join("{}" if seg == "~" else re.sub(r"\{[^}]*\}", "{}", seg) for seg in relative.split("/"))


def pair_operations(
    diff: SpecDiff, terms: tuple[tuple[str, str], ...]
) -> tuple[list[Pair], list[OperationRef], list[OperationRef]]:
    """(pairs, removed without replacement, added without predecessor) between the two specs of `diff`.

    The diff's own renames come first (same method and path shape); then, with the generation's renamed
    `terms` (model.generations), the same method and path shape once the terms are renamed, then the same
    method and operationId once the terms are renamed (a resource that also moved its path).
    """
    pairs = [
        Pair(OperationRef(r.old_id, r.method, r.old_path), OperationRef(r.new_id, r.method, r.new_path), SAME_PATH)
        for r in diff.operations_renamed
    ]
    removed, added = list(diff.operations_removed), list(diff.operations_added)
    if terms:
        names = ", ".join(f"{old} → {new}" for old, new in terms)
        rules: list[tuple[str, str, Callable[[OperationRef], str], Callable[[OperationRef], str]]] = [
            (
                "path+terms",
                f"same method and path once {names} are renamed",
                lambda o: rename_term(_shape(o.path, diff.base_path_a), terms),
                lambda o: _shape(o.path, diff.base_path_b),
            ),
            (
                "id+terms",
                f"same method and operationId once {names} are renamed (the path moved)",
                lambda o: rename_term(o.operation_id, terms),
                lambda o: o.operation_id,
            ),
        ]
        for rule, how, key_a, key_b in rules:
            pool = {(o.method, key_b(o)): o for o in added}
            for old in list(removed):
                new = pool.pop((old.method, key_a(old)), None)
                if new is not None:
                    pairs.append(Pair(old, new, how, rule))
                    removed.remove(old)
                    added.remove(new)
    return pairs, removed, added
