"""Every regulatory constant in one versioned module, with its requirement id beside it (R-IMPL-7).

Ids refer to ``../shared/spec/REGULATIONS.md``. Code elsewhere imports these names and never
repeats a literal; a change here is a change of rules and bumps ``RULES_VERSION``.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "AIGC_FIELDS",
    "AIGC_KEY",
    "AUDIO_RHYTHM",
    "C2PA_AI_SOURCE_TYPES",
    "EXIF_USERCOMMENT_ASCII_PREFIX",
    "EXPLICIT_LABEL_DEFAULTS",
    "ID_MAX_CHARS",
    "IMAGE_MARK_MIN_HEIGHT_RATIO",
    "LABEL_VALUES",
    "OUTCOME_PROMPTS",
    "PRODUCER_FIELDS",
    "PROPAGATION_FIELDS",
    "PROVIDER_CODE_RE",
    "RESERVED_FIELDS",
    "RULES_VERSION",
    "VIDEO_MARK_MIN_SECONDS",
    "XMP_AIGC_PREFIX",
    "XMP_AIGC_PROPERTY",
    "XMP_TC260_NAMESPACE",
    "charset_ok",
    "has_explicit_label_elements",
]

RULES_VERSION: Final = "2025-09-01.1"
"""Version of this rule set: the date the Measures and GB 45438-2025 took effect, then ours."""

# -- implicit metadata label (GB 45438 Annex E) -------------------------------------------------
AIGC_KEY: Final = "AIGC"  # R-META-2: the carrying field name contains "AIGC"
AIGC_FIELDS: Final = (  # R-META-1: names, case-sensitive, in this order (R-META-7)
    "Label",
    "ContentProducer",
    "ProduceID",
    "ReservedCode1",
    "ContentPropagator",
    "PropagateID",
    "ReservedCode2",
)
PRODUCER_FIELDS: Final = ("Label", "ContentProducer", "ProduceID", "ReservedCode1")  # R-META-5
PROPAGATION_FIELDS: Final = ("ContentPropagator", "PropagateID", "ReservedCode2")  # R-PLAT-3
RESERVED_FIELDS: Final = ("ReservedCode1", "ReservedCode2")  # MAY be empty (Annex E)
LABEL_VALUES: Final = {"1": "confirmed", "2": "possible", "3": "suspected"}  # R-PLAT-3 mapping
ID_MAX_CHARS: Final = 128  # R-META-8 [ENG]

# R-META-4: each value mainly of 0x21, 0x23-0x5B, 0x5D-0x7E (printable ASCII without space,
# raw double quote or backslash), plus the escape \" .
_CHARSET_RE: Final = re.compile(r'^(?:[\x21\x23-\x5B\x5D-\x7E]|\\")*$')

# R-META-9 / R-TC260-1: 00 + 1 + 1 + 18-char USCC + service type (1 generation, 2 propagation)
# + 4-char model/app code.
PROVIDER_CODE_RE: Final = re.compile(r"^0011[0-9A-HJ-NPQRTUWXY]{18}[12][0-9A-Z]{4}$")

# -- XMP carrier (R-FMT-1) ----------------------------------------------------------------------
XMP_TC260_NAMESPACE: Final = "http://www.tc260.org.cn/ns/AIGC/1.0/"
XMP_AIGC_PREFIX: Final = "TC260"
XMP_AIGC_PROPERTY: Final = "AIGC"
EXIF_USERCOMMENT_ASCII_PREFIX: Final = b"ASCII\x00\x00\x00"  # R-FMT-7

# -- explicit labels (GB 45438 section 5) -------------------------------------------------------
EXPLICIT_LABEL_DEFAULTS: Final = ("AI生成", "人工智能生成", "AI合成", "由人工智能生成")  # R-EXP-1
_AI_ELEMENTS: Final = ("人工智能", "AI")  # R-EXP-1
_SYNTHESIS_ELEMENTS: Final = ("生成", "合成")  # R-EXP-1
IMAGE_MARK_MIN_HEIGHT_RATIO: Final = 0.05  # R-EXP-3 / R-EXP-6: >= 5 % of the shortest side
VIDEO_MARK_MIN_SECONDS: Final = 2.0  # R-EXP-6: visible >= 2 s in the opening
# R-EXP-5 [ENG]: rhythm label "short-long short-short" (Morse "AI"); timing is ours.
AUDIO_RHYTHM: Final = {
    "pattern": ((0.1, "dot"), (0.3, "dash"), (0.1, "dot"), (0.1, "dot")),
    "tone_hz": 1000.0,
    "dot_s": 0.1,
    "dash_s": 0.3,
    "intra_gap_s": 0.1,
    "letter_gap_s": 0.3,
    "fade_s": 0.005,
    "level_dbfs": -12.0,
    "min_long_short_ratio": 2.0,
}

# -- platform prompts (R-PLAT-2 [ENG] wording) --------------------------------------------------
OUTCOME_PROMPTS: Final = {
    "confirmed": "内容由AI生成",
    "possible": "内容可能由AI生成",
    "suspected": "内容疑似由AI生成，请谨慎甄别",
}

# -- C2PA / IPTC (R-C2PA-1) ---------------------------------------------------------------------
_IPTC: Final = "http://cv.iptc.org/newscodes/digitalsourcetype/"
C2PA_AI_SOURCE_TYPES: Final = frozenset(
    {
        _IPTC + "trainedAlgorithmicMedia",
        _IPTC + "compositeWithTrainedAlgorithmicMedia",
        _IPTC + "compositeSynthetic",  # AI by policy (configurable by the policy work)
        "http://c2pa.org/digitalsourcetype/trainedAlgorithmicData",
    }
)


def charset_ok(value: str) -> bool:
    """R-META-4: the value uses only the Annex E code-point set."""
    return bool(_CHARSET_RE.match(value))


def has_explicit_label_elements(text: str) -> bool:
    """R-EXP-1: the text holds an AI element and a synthesis element."""
    return any(a in text for a in _AI_ELEMENTS) and any(s in text for s in _SYNTHESIS_ELEMENTS)
