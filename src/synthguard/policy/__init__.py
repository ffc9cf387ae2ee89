"""From evidence to a platform decision (REGULATIONS section 5, R-PLAT-1..10).

A :class:`Policy` (YAML; the documented default ships as ``default.yaml``) holds named rules
over the :class:`Evidence`; :func:`evaluate` is a pure function of the two, with the precedence
of R-PLAT-10: the outcome is the strongest one any rule found, a detector only ever says
"suspected" (R-PLAT-8), so it never overrides a label or a declaration. :func:`decide` is
:func:`evaluate` under the default policy. :func:`apply_decision` writes the labelled copy a
platform publishes (R-PLAT-3/R-PLAT-4). See ``docs/policy.md``.
"""

from __future__ import annotations

from synthguard.policy._apply import apply_decision, label_to_write
from synthguard.policy._evaluate import RECORD_SCHEMA, content_id_for, evaluate
from synthguard.policy._load import (
    check_policy,
    default_policy,
    default_policy_text,
    load_policy,
    parse_policy,
)
from synthguard.policy._model import Evidence, Policy, Rule
from synthguard.report import Decision

__all__ = [
    "Evidence",
    "Policy",
    "RECORD_SCHEMA",
    "Rule",
    "apply_decision",
    "check_policy",
    "content_id_for",
    "decide",
    "default_policy",
    "default_policy_text",
    "evaluate",
    "label_to_write",
    "load_policy",
    "parse_policy",
]


def decide(evidence: Evidence, policy: Policy | None = None, *,
           decided_at: str | None = None) -> Decision:
    """The decision for ``evidence`` under ``policy`` (default: the shipped policy)."""
    return evaluate(evidence, policy or default_policy(), decided_at=decided_at)
