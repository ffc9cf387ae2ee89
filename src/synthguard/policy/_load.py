"""Reading and checking policy files (YAML, ``yaml.safe_load`` only).

:func:`check_policy` returns every problem at once, each as ``where: what was expected, what was
got``; :func:`load_policy` raises :class:`~synthguard.errors.ConfigError` with all of them.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from synthguard.errors import ConfigError
from synthguard.policy._model import (
    CONDITION_FIELDS,
    MONOTONE_TRUE_ONLY,
    DetectorSpec,
    OutcomeActions,
    Policy,
    PolicyOptions,
    Rule,
)
from synthguard.report import Outcome
from synthguard.requirements import LABEL_VALUES

__all__ = [
    "Declaration",
    "Declarations",
    "check_policy",
    "default_policy",
    "default_policy_text",
    "load_declarations",
    "load_policy",
    "parse_policy",
    "version_matches",
]

_TOP = {"policy", "options", "detectors", "outcomes", "rules"}
_RULE_KEYS = {"name", "outcome", "when", "message", "requirement", "review", "block"}
_DETECTOR_KEYS = {"detector", "min_score", "max_score", "review_band", "abstained"}
_ACTION_KEYS = {"prompt", "write_label", "review", "block", "visible_mark"}
_OPTION_KEYS = {"c2pa_valid_ai_is_confirmed", "composite_synthetic_is_ai"}
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_SPEC_RE = re.compile(r"^\s*(>=|<=|==|>|<)\s*([0-9]+(?:\.[0-9]+)*)\s*$")


class _Problems(list[str]):
    def add(self, where: str, message: str) -> None:
        self.append(f"{where}: {message}")


def _vtuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:4]) or (0,)


def _spec_ok(spec: str) -> bool:
    return all(_SPEC_RE.match(part) for part in spec.split(",")) if spec.strip() else True


def version_matches(version: str, spec: str) -> bool:
    """Whether ``version`` lies in ``spec`` (comma-separated ``>=1.0``, ``<2`` ...; empty: any).
    Versions compare numerically, component by component."""
    if not spec.strip():
        return True
    v = _vtuple(version)
    for part in spec.split(","):
        m = _SPEC_RE.match(part)
        if m is None:
            return False
        op, ref = m.group(1), _vtuple(m.group(2))
        width = max(len(v), len(ref))
        a, b = v + (0,) * (width - len(v)), ref + (0,) * (width - len(ref))
        ok = {">=": a >= b, "<=": a <= b, "==": a == b, ">": a > b, "<": a < b}[op]
        if not ok:
            return False
    return True


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _unknown(problems: _Problems, where: str, got: dict[str, Any], known: set[str]) -> None:
    for key in got:
        if key not in known:
            problems.add(where, f"unknown field {key!r}; expected one of "
                         f"{', '.join(sorted(known))}")


def _score(problems: _Problems, where: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        problems.add(where, f"expected a calibrated score in [0, 1], got {value!r}")
        return None
    return float(value)


def _bool(problems: _Problems, where: str, value: Any, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        problems.add(where, f"expected true or false, got {value!r}")
        return default
    return value


def _parse_rule(
    problems: _Problems, i: int, raw: Any, detectors: dict[str, DetectorSpec]
) -> Rule | None:
    where = f"rules[{i}]"
    if not isinstance(raw, dict):
        problems.add(where, f"expected a mapping, got {_type_name(raw)}")
        return None
    _unknown(problems, where, raw, _RULE_KEYS)
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        problems.add(where, f"expected a name like 'aigc-label-1', got {name!r}")
        name = f"rule-{i}"
    where = f"rules[{i}] ({name})"
    try:
        outcome = Outcome(str(raw.get("outcome")))
    except ValueError:
        problems.add(where, f"expected outcome confirmed, possible, suspected or none, got "
                     f"{raw.get('outcome')!r}")
        outcome = Outcome.NONE
    when = raw.get("when")
    if not isinstance(when, dict) or not when:
        problems.add(where, f"expected 'when' to be a non-empty mapping, got {when!r}")
        when = {}
    conditions: dict[str, Any] = {}
    detector = when.get("detector")
    for key, value in when.items():
        if key in _DETECTOR_KEYS:
            continue
        if key not in CONDITION_FIELDS:
            problems.add(where, f"unknown evidence field {key!r}; expected one of "
                         f"{', '.join(sorted(set(CONDITION_FIELDS) | _DETECTOR_KEYS))}")
            continue
        if not isinstance(value, CONDITION_FIELDS[key]) or (
            isinstance(value, list) and not all(isinstance(v, str) for v in value)
        ):
            expected = " or ".join(t.__name__ for t in CONDITION_FIELDS[key])
            problems.add(where, f"{key} expects {expected}, got {value!r}")
            continue
        if key in MONOTONE_TRUE_ONLY and value is not True:
            problems.add(where, f"{key} may only be tested for true (a rule must not fire on "
                         "the absence of evidence)")
            continue
        if key == "aigc.label":
            values = value if isinstance(value, list) else [value]
            bad = [v for v in values if v not in LABEL_VALUES]
            if bad:
                problems.add(where, f"aigc.label expects \"1\", \"2\" or \"3\", got {bad[0]!r}")
                continue
        conditions[key] = value
    min_score = max_score = None
    band: tuple[float, float] | None = None
    abstained = None
    if detector is not None:
        if not isinstance(detector, str):
            problems.add(where, f"detector expects a name, got {detector!r}")
            detector = None
        elif detector not in detectors:
            problems.add(where, f"unknown detector {detector!r}: declare it under 'detectors' "
                         f"(declared: {', '.join(sorted(detectors)) or 'none'})")
        min_score = _score(problems, f"{where} min_score", when.get("min_score"))
        max_score = _score(problems, f"{where} max_score", when.get("max_score"))
        raw_band = when.get("review_band")
        if raw_band is not None:
            if (not isinstance(raw_band, list) or len(raw_band) != 2):
                problems.add(where, f"review_band expects [low, high], got {raw_band!r}")
            else:
                lo = _score(problems, f"{where} review_band", raw_band[0])
                hi = _score(problems, f"{where} review_band", raw_band[1])
                if lo is not None and hi is not None:
                    if lo >= hi:
                        problems.add(where, f"review_band expects low < high, got {raw_band!r}")
                    elif min_score is not None and hi > min_score:
                        problems.add(where, f"overlapping thresholds: review_band {raw_band!r} "
                                     f"reaches above min_score {min_score}")
                    else:
                        band = (lo, hi)
        if min_score is not None and max_score is not None and min_score >= max_score:
            problems.add(where, f"expected min_score < max_score, got {min_score} and "
                         f"{max_score}")
        if "abstained" in when:
            abstained = _bool(problems, f"{where} abstained", when["abstained"], False)
        if min_score is None and band is None and abstained is None:
            problems.add(where, "a detector rule needs min_score, review_band or abstained")
        if min_score is not None and outcome not in (Outcome.SUSPECTED, Outcome.NONE):
            problems.add(where, f"a detector feeds only the suspected branch (R-PLAT-8); got "
                         f"outcome {outcome.value}")
    else:
        for key in _DETECTOR_KEYS & set(when):
            problems.add(where, f"{key} needs a 'detector' in the same rule")
    message = raw.get("message", "")
    if not isinstance(message, str):
        problems.add(where, f"message expects text, got {message!r}")
        message = ""
    requirement = raw.get("requirement")
    if requirement is not None and not isinstance(requirement, str):
        problems.add(where, f"requirement expects text, got {requirement!r}")
        requirement = None
    return Rule(
        name=name, outcome=outcome, when=conditions, message=message or name,
        requirement=requirement,
        review=_bool(problems, f"{where} review", raw.get("review"), False),
        block=_bool(problems, f"{where} block", raw.get("block"), False),
        detector=detector, min_score=min_score, max_score=max_score, review_band=band,
        abstained=abstained,
    )


def _overlaps(problems: _Problems, rules: list[Rule]) -> None:
    """Two score rules on one detector must not claim the same scores for different things."""
    ranges: dict[str, list[tuple[float, float, str, str]]] = {}
    for rule in rules:
        if rule.detector is None:
            continue
        spans = ranges.setdefault(rule.detector, [])
        if rule.min_score is not None:
            hi = rule.max_score if rule.max_score is not None else 1.000001
            spans.append((rule.min_score, hi, rule.name, rule.outcome.value))
        if rule.review_band is not None:
            spans.append((*rule.review_band, rule.name, "review"))
    for det, spans in ranges.items():
        for i, (lo1, hi1, n1, o1) in enumerate(spans):
            for lo2, hi2, n2, o2 in spans[i + 1 :]:
                if o1 != o2 and lo1 < hi2 and lo2 < hi1:
                    problems.add(f"detector {det}", f"overlapping thresholds: rule {n1} ({o1}, "
                                 f"{lo1}..{min(hi1, 1.0)}) and rule {n2} ({o2}, {lo2}.."
                                 f"{min(hi2, 1.0)}) both claim some scores")


def _parse(data: Any, problems: _Problems) -> Policy | None:
    if not isinstance(data, dict):
        problems.add("policy file", f"expected a mapping at the top, got {_type_name(data)}")
        return None
    _unknown(problems, "top level", data, _TOP)
    head = data.get("policy")
    pid, version = "unnamed", "0"
    if not isinstance(head, dict):
        problems.add("policy", "expected a mapping with 'id' and 'version'")
    else:
        _unknown(problems, "policy", head, {"id", "version", "description"})
        if not isinstance(head.get("id"), str) or not head["id"]:
            problems.add("policy.id", f"expected text, got {head.get('id')!r}")
        else:
            pid = head["id"]
        if not isinstance(head.get("version"), (str, int, float)) or isinstance(
            head.get("version"), bool
        ):
            problems.add("policy.version", f"expected text such as \"1.0\", got "
                         f"{head.get('version')!r}")
        else:
            version = str(head["version"])
    raw_options = data.get("options") or {}
    options = PolicyOptions()
    if not isinstance(raw_options, dict):
        problems.add("options", f"expected a mapping, got {_type_name(raw_options)}")
    else:
        _unknown(problems, "options", raw_options, _OPTION_KEYS)
        options = PolicyOptions(
            c2pa_valid_ai_is_confirmed=_bool(
                problems, "options.c2pa_valid_ai_is_confirmed",
                raw_options.get("c2pa_valid_ai_is_confirmed"), True),
            composite_synthetic_is_ai=_bool(
                problems, "options.composite_synthetic_is_ai",
                raw_options.get("composite_synthetic_is_ai"), True),
        )
    detectors: dict[str, DetectorSpec] = {}
    raw_detectors = data.get("detectors") or {}
    if not isinstance(raw_detectors, dict):
        problems.add("detectors", f"expected a mapping of name to {{versions}}, got "
                     f"{_type_name(raw_detectors)}")
    else:
        for name, spec in raw_detectors.items():
            spec = spec or {}
            if not isinstance(spec, dict):
                problems.add(f"detectors.{name}", f"expected a mapping, got {_type_name(spec)}")
                continue
            _unknown(problems, f"detectors.{name}", spec, {"versions"})
            versions = str(spec.get("versions", ""))
            if not _spec_ok(versions):
                problems.add(f"detectors.{name}.versions", f"expected a range like "
                             f"\">=1.0,<2\", got {versions!r}")
            detectors[str(name)] = DetectorSpec(str(name), versions)
    outcomes: dict[Outcome, OutcomeActions] = {o: OutcomeActions() for o in Outcome}
    raw_outcomes = data.get("outcomes") or {}
    if not isinstance(raw_outcomes, dict):
        problems.add("outcomes", f"expected a mapping, got {_type_name(raw_outcomes)}")
    else:
        for key, raw in raw_outcomes.items():
            try:
                outcome = Outcome(key)
            except ValueError:
                problems.add("outcomes", f"unknown outcome {key!r}; expected confirmed, "
                             "possible, suspected or none")
                continue
            raw = raw or {}
            if not isinstance(raw, dict):
                problems.add(f"outcomes.{key}", f"expected a mapping, got {_type_name(raw)}")
                continue
            _unknown(problems, f"outcomes.{key}", raw, _ACTION_KEYS)
            prompt = raw.get("prompt")
            if prompt is not None and not isinstance(prompt, str):
                problems.add(f"outcomes.{key}.prompt", f"expected text, got {prompt!r}")
                prompt = None
            outcomes[outcome] = OutcomeActions(
                prompt=prompt,
                write_label=_bool(problems, f"outcomes.{key}.write_label",
                                  raw.get("write_label"), outcome is not Outcome.NONE),
                review=_bool(problems, f"outcomes.{key}.review", raw.get("review"), False),
                block=_bool(problems, f"outcomes.{key}.block", raw.get("block"), False),
                visible_mark=_bool(problems, f"outcomes.{key}.visible_mark",
                                   raw.get("visible_mark"), False),
            )
    if outcomes[Outcome.NONE].write_label:
        problems.add("outcomes.none.write_label", "the outcome none writes no label")
    raw_rules = data.get("rules")
    rules: list[Rule] = []
    if not isinstance(raw_rules, list) or not raw_rules:
        problems.add("rules", f"expected a non-empty list, got {_type_name(raw_rules)}")
    else:
        seen: set[str] = set()
        for i, raw in enumerate(raw_rules):
            rule = _parse_rule(problems, i, raw, detectors)
            if rule is None:
                continue
            if rule.name in seen:
                problems.add(f"rules[{i}]", f"duplicate rule name {rule.name!r}")
            seen.add(rule.name)
            rules.append(rule)
        _overlaps(problems, rules)
    return Policy(
        id=pid, version=version, rules=tuple(rules), outcomes=outcomes, options=options,
        detectors=tuple(detectors.values()),
    )


def _safe_load(text: str, where: str, problems: _Problems) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.add(where, f"expected valid YAML, got a syntax error{at}: {problem}")
        return None


def check_policy(text: str, *, source: str = "policy") -> list[str]:
    """Every problem in a policy file's text (empty when it is valid)."""
    problems = _Problems()
    data = _safe_load(text, source, problems)
    if not problems:
        _parse(data, problems)
    return list(problems)


def parse_policy(text: str, *, source: str = "<text>") -> Policy:
    """A :class:`Policy` from YAML text; :class:`ConfigError` lists every problem."""
    problems = _Problems()
    data = _safe_load(text, source, problems)
    policy = None if problems else _parse(data, problems)
    if problems or policy is None:
        raise ConfigError(f"invalid policy {source}: " + "; ".join(problems))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Policy(
        id=policy.id, version=policy.version, rules=policy.rules, outcomes=policy.outcomes,
        options=policy.options, detectors=policy.detectors, sha256=digest, source=source,
    )


def load_policy(path: str | os.PathLike[str] | None = None) -> Policy:
    """The policy in ``path`` (YAML), or the shipped default when ``path`` is empty/None.
    Loaded once per process per file content."""
    if path is None or not os.fspath(path):
        return default_policy()
    p = Path(path)
    return _cached(_read_current(p, "policy file"), str(p))


def _read_current(path: Path, what: str) -> str:
    """The file's text, read again only when its size or mtime changed: scans call this per
    file, and reading and hashing a policy per upload cost more than the scan itself."""
    try:
        st = os.stat(path)
        return _read_text(str(path), st.st_mtime_ns, st.st_size, what)
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


@lru_cache(maxsize=16)
def _read_text(path: str, mtime_ns: int, size: int, what: str) -> str:
    del mtime_ns, size  # cache key only
    try:
        return Path(path).read_text("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc}") from None


@lru_cache(maxsize=16)
def _cached(text: str, source: str) -> Policy:
    return parse_policy(text, source=source)


def default_policy_text() -> str:
    return resources.files("synthguard.policy").joinpath("default.yaml").read_text("utf-8")


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    """The documented default policy shipped with the package (R-PLAT-1 order)."""
    return _cached(default_policy_text(), "synthguard/policy/default.yaml")


@dataclass(frozen=True)
class Declaration:
    """One uploader declaration (R-PLAT-5) and, optionally, the platform's content id."""

    declared_ai: bool | None = None
    content_id: str | None = None


class Declarations:
    """Declarations by sha256 and by path, from a declarations file."""

    def __init__(self, by_sha: dict[str, Declaration], by_path: dict[str, Declaration]) -> None:
        self.by_sha = by_sha
        self.by_path = by_path

    def lookup(self, path: str | None, sha256: str | None) -> Declaration | None:
        if sha256 and sha256 in self.by_sha:
            return self.by_sha[sha256]
        if path:
            found = self.by_path.get(path) or self.by_path.get(os.path.abspath(path))
            if found is not None:
                return found
        return None


def load_declarations(path: str | os.PathLike[str]) -> Declarations:
    """Read a declarations file (YAML or JSON): a list, or ``{declarations: [...]}``, of
    ``{path | sha256, declared_ai: bool, content_id: str}``."""
    p = Path(path)
    return _declarations(_read_current(p, "declarations file"), str(p))


@lru_cache(maxsize=4)
def _declarations(text: str, source: str) -> Declarations:
    problems = _Problems()
    data = _safe_load(text, source, problems)
    if isinstance(data, dict):
        _unknown(problems, source, data, {"declarations"})
        data = data.get("declarations")
    by_sha: dict[str, Declaration] = {}
    by_path: dict[str, Declaration] = {}
    if not problems and not isinstance(data, list):
        problems.add(source, f"expected a list of declarations, got {_type_name(data)}")
    for i, item in enumerate(data if isinstance(data, list) else ()):
        where = f"{source} [{i}]"
        if not isinstance(item, dict):
            problems.add(where, f"expected a mapping, got {_type_name(item)}")
            continue
        _unknown(problems, where, item, {"path", "sha256", "declared_ai", "content_id"})
        declared = item.get("declared_ai")
        if declared is not None and not isinstance(declared, bool):
            problems.add(where, f"declared_ai expects true or false, got {declared!r}")
            declared = None
        cid = item.get("content_id")
        if cid is not None and not isinstance(cid, str):
            problems.add(where, f"content_id expects text, got {cid!r}")
            cid = None
        decl = Declaration(declared, cid)
        if isinstance(item.get("sha256"), str):
            by_sha[item["sha256"].lower()] = decl
        elif isinstance(item.get("path"), str):
            by_path[item["path"]] = decl
            by_path.setdefault(os.path.abspath(item["path"]), decl)
        else:
            problems.add(where, "expected 'path' or 'sha256' naming the upload")
    if problems:
        raise ConfigError(f"invalid declarations file {source}: " + "; ".join(problems))
    return Declarations(by_sha, by_path)
