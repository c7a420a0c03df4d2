"""What the semantic checks report: one finding per problem, on one line of the merged tree,
saying what each side of the merge did."""

from __future__ import annotations

from dataclasses import asdict, dataclass

KINDS = (
    "duplicate_definition",
    "duplicate_key",
    "signature_mismatch",
    "removed_name",
    "removed_base_member",
    "contract_change",
)
DEFAULT_SEVERITY = {kind: "warn" if kind == "contract_change" else "block" for kind in KINDS}
# Found by running real tools on the four versions (differential.py) and by parsing the merge:
# a Python file that no longer parses, a type checker's new error, any analyser's new diagnostic.
TOOL_KINDS = ("syntax_error", "type_error", "new_diagnostic")
ALL_KINDS = KINDS + TOOL_KINDS
ALL_SEVERITY = {**DEFAULT_SEVERITY, **dict.fromkeys(TOOL_KINDS, "block")}
SIDE_LABELS = {"ours": "the integration branch", "theirs": "the unit's branch"}
OTHER_SIDE = {"ours": "theirs", "theirs": "ours"}


@dataclass(frozen=True)
class Finding:
    """A merge that is textually clean but semantically broken, at one place in the merged tree."""

    kind: str  # one of KINDS
    path: str  # file in the merged tree where the problem shows (posix, repo-relative)
    line: int  # 1-based line in the merged file
    symbol: str  # the name involved, dotted where useful
    message: str  # one line naming both sides
    ours: str  # what the integration branch did, short
    theirs: str  # what the unit's branch did, short

    def to_json(self) -> dict:
        return {**asdict(self), "severity": ALL_SEVERITY[self.kind]}


def by_side(side: str, mine: str, other: str) -> dict[str, str]:
    """The `ours` and `theirs` fields, given what `side` did and what the other side did."""
    return {side: mine, OTHER_SIDE[side]: other}


class SemanticSettings(dict):
    """The plan's severity for each kind of finding (a dict, as it always was), carrying what the
    differential checks need from the plan: its differential commands (`checks` entries marked
    `differential = true`), whether default analysers are looked for, and the gate's sandbox."""

    differential: tuple[str, ...] = ()
    defaults: bool = True
    sandbox: str = "off"
    gate_network: str = "none"
    gate_env: tuple[str, ...] = ()
