"""Every regulatory constant in one versioned module, with its requirement id beside it (R-IMPL-7).

Ids refer to ``../shared/spec/REGULATIONS.md``. Code elsewhere imports these names and never
repeats a literal; a change here is a change of rules and bumps ``RULES_VERSION``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

__all__ = [
    "AIGC_FIELDS",
    "AIGC_KEY",
    "AUDIO_MARK_GAP_S",
    "AUDIO_RHYTHM",
    "BMFF_MDTA_HANDLER",
    "BMFF_XMP_UUID",
    "C2PA_ACTION_CREATED",
    "C2PA_ACTION_EDITED",
    "C2PA_ACTION_OPENED",
    "C2PA_AIGC_ASSERTION",
    "C2PA_AI_SOURCE_TYPES",
    "C2PA_BMFF_UUID",
    "C2PA_INVALIDATED_BY_PROPAGATION",
    "C2PA_JPEG_MARKER",
    "C2PA_PNG_CHUNK",
    "C2PA_RIFF_CHUNK",
    "CARRIERS",
    "Carrier",
    "DOCX_CUSTOM_PART",
    "DOCX_CUSTOM_PROPERTIES_FMTID",
    "EXIF_TAG_IMAGE_DESCRIPTION",
    "EXIF_TAG_USER_COMMENT",
    "EXIF_USERCOMMENT_ASCII_PREFIX",
    "EXPLICIT_LABEL_DEFAULTS",
    "GIF_XMP_APPLICATION",
    "ID_MAX_CHARS",
    "IMAGE_MARK_EDGE_BAND_RATIO",
    "IMAGE_MARK_MIN_HEIGHT_RATIO",
    "IMAGE_MARK_POSITIONS",
    "IPTC_DIGITAL_SOURCE_TYPE_PREFIX",
    "JPEG_EXIF_SIGNATURE",
    "JPEG_XMP_SIGNATURE",
    "LABEL_VALUES",
    "LEGACY_LABEL_KEYS",
    "MKV_TAG_TARGET_TYPE_VALUE",
    "OUTCOME_PROMPTS",
    "PNG_XMP_KEYWORD",
    "PRODUCER_FIELDS",
    "PROPAGATION_FIELDS",
    "PROVIDER_CODE_RE",
    "RESERVED_FIELDS",
    "RULES_VERSION",
    "TIFF_TAG_XMP",
    "VIDEO_MARK_DEFAULT_SECONDS",
    "VIDEO_MARK_MIN_SECONDS",
    "VIDEO_SHORT_NOTE",
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

# -- where the label lives (section 4) ------------------------------------------------------------


class Carrier(StrEnum):
    """Every place a reader looks for the label and a writer may put it (R-FMT-1..20).

    The values are the ``carrier`` ids of :class:`~synthguard.provenance.aigc.Site` and of the
    report; readers and writers use the same ids. ``CARRIERS`` gives each its requirement id.
    """

    JPEG_XMP = "jpeg.xmp"
    JPEG_EXIF_USERCOMMENT = "jpeg.exif.usercomment"
    JPEG_EXIF_IMAGEDESCRIPTION = "jpeg.exif.imagedescription"
    JPEG_APP_AIGC = "jpeg.app.aigc"
    PNG_XMP = "png.xmp"
    PNG_TEXT_AIGC = "png.text.aigc"
    PNG_EXIF_USERCOMMENT = "png.exif.usercomment"
    WEBP_XMP = "webp.xmp"
    WEBP_EXIF_USERCOMMENT = "webp.exif.usercomment"
    TIFF_XMP = "tiff.xmp"
    TIFF_EXIF_USERCOMMENT = "tiff.exif.usercomment"
    GIF_XMP = "gif.xmp"
    HEIF_XMP = "heif.xmp"
    MP4_KEYS_AIGC = "mp4.keys.aigc"
    MP4_UDTA_AIGC = "mp4.udta.aigc"
    MP4_XMP = "mp4.xmp"
    MKV_SIMPLETAG_AIGC = "mkv.simpletag.aigc"
    AVI_INFO_AIGC = "avi.info.aigc"
    FLV_ONMETADATA_AIGC = "flv.onmetadata.aigc"
    WAV_CHUNK_AIGC = "wav.chunk.aigc"
    WAV_XMP = "wav.xmp"
    WAV_ID3_TXXX_AIGC = "wav.id3.txxx.aigc"
    MP3_ID3_TXXX_AIGC = "mp3.id3.txxx.aigc"
    FLAC_VORBIS_AIGC = "flac.vorbis.aigc"
    OGG_VORBIS_AIGC = "ogg.vorbis.aigc"
    OPUS_VORBIS_AIGC = "opus.vorbis.aigc"
    DOCX_CUSTOM_AIGC = "docx.custom.aigc"
    PDF_INFO_AIGC = "pdf.info.aigc"
    PDF_XMP = "pdf.xmp"
    MD_FRONTMATTER_AIGC = "md.frontmatter.aigc"


CARRIERS: Final[dict[Carrier, str]] = {
    Carrier.JPEG_XMP: "R-FMT-2",
    Carrier.JPEG_EXIF_USERCOMMENT: "R-FMT-7",
    Carrier.JPEG_EXIF_IMAGEDESCRIPTION: "R-FMT-20",
    Carrier.JPEG_APP_AIGC: "R-FMT-20",
    Carrier.PNG_XMP: "R-FMT-3",
    Carrier.PNG_TEXT_AIGC: "R-FMT-7",
    Carrier.PNG_EXIF_USERCOMMENT: "R-FMT-7",
    Carrier.WEBP_XMP: "R-FMT-4",
    Carrier.WEBP_EXIF_USERCOMMENT: "R-FMT-7",
    Carrier.TIFF_XMP: "R-FMT-5",
    Carrier.TIFF_EXIF_USERCOMMENT: "R-FMT-7",
    Carrier.GIF_XMP: "R-FMT-6",
    Carrier.HEIF_XMP: "R-FMT-6",
    Carrier.MP4_KEYS_AIGC: "R-FMT-8",
    Carrier.MP4_UDTA_AIGC: "R-FMT-20",
    Carrier.MP4_XMP: "R-FMT-15",
    Carrier.MKV_SIMPLETAG_AIGC: "R-FMT-9",
    Carrier.AVI_INFO_AIGC: "R-FMT-10",
    Carrier.FLV_ONMETADATA_AIGC: "R-FMT-11",
    Carrier.WAV_CHUNK_AIGC: "R-FMT-12",
    Carrier.WAV_XMP: "R-FMT-15",
    Carrier.WAV_ID3_TXXX_AIGC: "R-FMT-13",
    Carrier.MP3_ID3_TXXX_AIGC: "R-FMT-13",
    Carrier.FLAC_VORBIS_AIGC: "R-FMT-14",
    Carrier.OGG_VORBIS_AIGC: "R-FMT-14",
    Carrier.OPUS_VORBIS_AIGC: "R-FMT-14",
    Carrier.DOCX_CUSTOM_AIGC: "R-FMT-16",
    Carrier.PDF_INFO_AIGC: "R-FMT-17",
    Carrier.PDF_XMP: "R-FMT-15",
    Carrier.MD_FRONTMATTER_AIGC: "R-FMT-18",
}
"""Carrier id -> the requirement that names the location. R-FMT-20 rows are legacy/vendor
variants: read and flagged, never written."""

JPEG_XMP_SIGNATURE: Final = b"http://ns.adobe.com/xap/1.0/\x00"  # R-FMT-2: APP1 XMP
JPEG_EXIF_SIGNATURE: Final = b"Exif\x00\x00"  # R-FMT-7: APP1 EXIF (then a TIFF header)
PNG_XMP_KEYWORD: Final = b"XML:com.adobe.xmp"  # R-FMT-3: iTXt keyword
GIF_XMP_APPLICATION: Final = b"XMP DataXMP"  # R-FMT-6: application identifier + auth code
TIFF_TAG_XMP: Final = 700  # R-FMT-5: 0x02BC XMLPacket
EXIF_TAG_USER_COMMENT: Final = 0x9286  # R-FMT-7
EXIF_TAG_IMAGE_DESCRIPTION: Final = 0x010E  # R-FMT-20 (legacy JSON)
BMFF_MDTA_HANDLER: Final = b"mdta"  # R-FMT-8: moov/udta/meta handler; keys namespace
MKV_TAG_TARGET_TYPE_VALUE: Final = 50  # R-FMT-9: Tag Targets = the whole item (global tag)
BMFF_XMP_UUID: Final = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")  # R-FMT-15
# R-C2PA-3: where manifest stores live (the walkers record them so readers run only when one is
# there): ISO BMFF top-level uuid box, PNG chunk, RIFF chunk, JPEG APP11 JUMBF segments.
C2PA_BMFF_UUID: Final = bytes.fromhex("D8FEC3D61B0E483C92975828877EC481")
C2PA_PNG_CHUNK: Final = b"caBX"
C2PA_RIFF_CHUNK: Final = b"C2PA"
C2PA_JPEG_MARKER: Final = 0xEB
DOCX_CUSTOM_PART: Final = "docProps/custom.xml"  # R-FMT-16
DOCX_CUSTOM_PROPERTIES_FMTID: Final = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"  # R-FMT-16
LEGACY_LABEL_KEYS: Final = ("ServiceProvider", "ServiceUser")  # R-FMT-20 / R-TC260-8

# -- explicit labels (GB 45438 section 5) -------------------------------------------------------
EXPLICIT_LABEL_DEFAULTS: Final = ("AI生成", "人工智能生成", "AI合成", "由人工智能生成")  # R-EXP-1
_AI_ELEMENTS: Final = ("人工智能", "AI")  # R-EXP-1
_SYNTHESIS_ELEMENTS: Final = ("生成", "合成")  # R-EXP-1
IMAGE_MARK_MIN_HEIGHT_RATIO: Final = 0.05  # R-EXP-3 / R-EXP-6: >= 5 % of the shortest side
IMAGE_MARK_POSITIONS: Final = (  # R-EXP-3 / R-EXP-11: on an edge or in a corner; first = default
    "bottom-right",
    "bottom-left",
    "top-left",
    "top-right",
    "bottom",
    "top",
)
IMAGE_MARK_EDGE_BAND_RATIO: Final = 0.1  # R-EXP-3 [ENG]: "on an edge" = within 10 % of the side
VIDEO_MARK_MIN_SECONDS: Final = 2.0  # R-EXP-6: visible >= 2 s in the opening
VIDEO_MARK_DEFAULT_SECONDS: Final = 3.0  # R-EXP-6 [ENG]: 2 s plus a margin for players/seeking
VIDEO_SHORT_NOTE: Final = "short_video_lt_2s"  # R-EXP-7 [ENG]: clip < 2 s, labelled throughout
AUDIO_MARK_GAP_S: Final = 0.3  # R-EXP-4 [ENG]: silence between the mark and the content
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
IPTC_DIGITAL_SOURCE_TYPE_PREFIX: Final = "http://cv.iptc.org/newscodes/digitalsourcetype/"
_IPTC: Final = IPTC_DIGITAL_SOURCE_TYPE_PREFIX
C2PA_AI_SOURCE_TYPES: Final = frozenset(
    {
        _IPTC + "trainedAlgorithmicMedia",
        _IPTC + "compositeWithTrainedAlgorithmicMedia",
        _IPTC + "compositeSynthetic",  # AI by policy (configurable by the policy work)
        "http://c2pa.org/digitalsourcetype/trainedAlgorithmicData",
    }
)
C2PA_ACTION_CREATED: Final = "c2pa.created"  # R-C2PA-2: de novo asset; carries digitalSourceType
C2PA_ACTION_OPENED: Final = "c2pa.opened"  # R-C2PA-2: edit of an existing asset (parent ingredient)
C2PA_ACTION_EDITED: Final = "c2pa.edited"  # mapping table: AI edit of real media carries the dst
# Mapping table of section 10 [ENG]: the GB 45438 label as an informative custom assertion
# (reverse-domain label); the normative label stays the metadata one (R-C2PA-5).
C2PA_AIGC_ASSERTION: Final = "cn.gb45438.aigc"
# R-C2PA-6 [ENG]: recorded when a propagation write broke a manifest's hard binding.
C2PA_INVALIDATED_BY_PROPAGATION: Final = "c2pa_invalidated_by_propagation"


def charset_ok(value: str) -> bool:
    """R-META-4: the value uses only the Annex E code-point set."""
    return bool(_CHARSET_RE.match(value))


def has_explicit_label_elements(text: str) -> bool:
    """R-EXP-1: the text holds an AI element and a synthesis element."""
    return any(a in text for a in _AI_ELEMENTS) and any(s in text for s in _SYNTHESIS_ELEMENTS)
