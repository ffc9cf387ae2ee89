"""One self-contained HTML page for a batch of reports.

:func:`render_html` writes a single file a reviewer can open anywhere: inline CSS, previews as
``data:`` URIs, no external resources, and a few lines of optional JavaScript for filtering (the
page is complete without it). Every string from a report is HTML-escaped: paths, messages and
detector notes come from untrusted input.

Previews are made by reopening each file through :func:`synthguard.media.open_media` with the
same settings: a thumbnail for images, a keyframe strip for videos, a waveform for audio (and
for videos with sound), the first characters of a text. A preview that cannot be made says so
on its card and never stops the page.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from synthguard._version import __version__
from synthguard.errors import SynthguardError
from synthguard.report import Detection, Report
from synthguard.settings import Settings

if TYPE_CHECKING:
    from PIL import Image

    from synthguard.media import Media

__all__ = ["render_html"]

OUTCOMES = ("confirmed", "possible", "suspected", "none", "error")
TEXT_PREVIEW_CHARS = 300
WAVEFORM_HEIGHT = 56
# Audio for a waveform is decoded at a rate that keeps at most this many samples (an hour of
# sound needs no more than a few thousand columns of envelope).
WAVEFORM_MAX_SAMPLES = 2_000_000
_B64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")

_CSS = """
:root{--confirmed:#b91c1c;--possible:#c2410c;--suspected:#a16207;--none:#15803d;--error:#6b7280;
--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f9fafb}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);
background:var(--bg);margin:0;padding:24px}
h1{font-size:22px;margin:0 0 4px}
.meta{color:var(--muted);margin-bottom:16px}
.summary{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:16px}
.summary div{background:#fff;border:1px solid var(--line);border-radius:8px;padding:8px 12px}
.summary b{display:block;font-size:12px;color:var(--muted);font-weight:600;text-transform:uppercase}
.filters{margin:0 0 16px;display:flex;gap:12px;flex-wrap:wrap;align-items:center}
.card{background:#fff;border:1px solid var(--line);border-left:6px solid var(--none);
border-radius:8px;padding:14px 16px;margin-bottom:14px}
.card.o-confirmed{border-left-color:var(--confirmed)}.card.o-possible{border-left-color:var(--possible)}
.card.o-suspected{border-left-color:var(--suspected)}.card.o-error{border-left-color:var(--error)}
.head{display:flex;flex-wrap:wrap;gap:8px;align-items:baseline}
.path{font-weight:600;word-break:break-all;font-family:ui-monospace,Menlo,Consolas,monospace}
.badge{display:inline-block;border-radius:999px;padding:1px 9px;font-size:12px;font-weight:600;
color:#fff;background:var(--muted)}
.b-confirmed{background:var(--confirmed)}.b-possible{background:var(--possible)}
.b-suspected{background:var(--suspected)}.b-none{background:var(--none)}.b-error{background:var(--error)}
.tag{font-size:12px;color:var(--muted);border:1px solid var(--line);border-radius:4px;padding:0 6px}
.body{display:flex;flex-wrap:wrap;gap:18px;margin-top:10px}
.visual{flex:0 0 auto;max-width:100%}
.visual img{display:block;border:1px solid var(--line);border-radius:4px;background:#fff}
.strip{display:flex;gap:4px;flex-wrap:wrap}
.strip figure{margin:0;font-size:11px;color:var(--muted);text-align:center}
.facts{flex:1 1 320px;min-width:0}
table{border-collapse:collapse;font-size:13px}
td,th{padding:2px 10px 2px 0;text-align:left;vertical-align:top}
th{color:var(--muted);font-weight:600}
.bar{display:inline-block;width:120px;height:10px;background:var(--line);border-radius:5px;
vertical-align:middle;overflow:hidden;margin-right:6px}
.bar span{display:block;height:100%;background:var(--possible)}
.abstain{color:var(--muted);font-style:italic}
.error{color:var(--confirmed);font-weight:600}
.unavailable{color:var(--muted);font-style:italic;font-size:13px}
pre{white-space:pre-wrap;word-break:break-word;background:var(--bg);border:1px solid var(--line);
border-radius:4px;padding:8px;max-width:60ch;font-size:12px;margin:0}
h3{font-size:13px;margin:10px 0 4px;color:var(--muted);text-transform:uppercase}
ul{margin:2px 0;padding-left:20px}
"""

_JS = """
(function(){
  var q=document.getElementById('q'), boxes=document.querySelectorAll('.filters input[data-o]');
  function apply(){
    var on={}, text=(q.value||'').toLowerCase();
    boxes.forEach(function(b){on[b.dataset.o]=b.checked;});
    document.querySelectorAll('.card').forEach(function(c){
      c.hidden=!(on[c.dataset.outcome] && c.dataset.path.toLowerCase().indexOf(text)>=0);
    });
  }
  q.addEventListener('input',apply);
  boxes.forEach(function(b){b.addEventListener('change',apply);});
})();
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _human_size(size: int | None) -> str:
    if size is None:
        return "unknown size"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover - the loop always returns


def _outcome(report: Report) -> str:
    if report.error is not None:
        return "error"
    return report.decision.outcome.value if report.decision is not None else "none"


# -- images as data URIs ----------------------------------------------------------------------


def _data_uri(im: Image.Image, fmt: str) -> str:
    buf = io.BytesIO()
    if fmt == "JPEG":
        im.convert("RGB").save(buf, "JPEG", quality=80)
        mime = "image/jpeg"
    else:
        im.save(buf, "PNG", optimize=True)
        mime = "image/png"
    return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"


def _img(uri: str, alt: str, width: int | None = None, height: int | None = None) -> str:
    size = f' width="{width}" height="{height}"' if width and height else ""
    return f'<img src="{uri}" alt="{_e(alt)}"{size}>'


def _waveform_png(samples: np.ndarray, width: int) -> Image.Image:
    """A min/max envelope, one column per ``len(samples) / width`` samples."""
    from PIL import Image

    height = WAVEFORM_HEIGHT
    n = samples.shape[-1]
    width = max(1, min(width, n))
    usable = n - n % width
    cols = samples[:usable].reshape(width, -1)
    lo, hi = cols.min(axis=1), cols.max(axis=1)
    mid = (height - 1) / 2.0
    top = np.round(mid - hi * mid).astype(int)
    bottom = np.round(mid - lo * mid).astype(int)
    rows = np.arange(height)[:, None]
    mask = (rows >= top[None, :]) & (rows <= bottom[None, :])
    mask[int(mid), :] = True  # the zero line, so silence still shows a trace
    pixels = np.full((height, width, 3), 255, dtype=np.uint8)
    pixels[mask] = (37, 99, 235)
    return Image.fromarray(pixels)


# -- visuals per kind -------------------------------------------------------------------------


def _image_visual(media: Media, settings: Settings) -> str:
    thumb = media.image(max_side=int(settings.thumbnail_px))
    return _img(_data_uri(thumb, "JPEG"), f"thumbnail of {media.name}", *thumb.size)


def _waveform_visual(media: Media, settings: Settings) -> str:
    duration = media.info.duration or float(settings.max_duration_s)
    rate = int(min(8_000, max(200, WAVEFORM_MAX_SAMPLES / max(duration, 1e-3))))
    clip = media.audio(sample_rate=rate, mono=True)
    width = 2 * int(settings.thumbnail_px)
    wave = _waveform_png(clip.samples, width)
    caption = f"{clip.duration:.2f} s of audio"
    img = _img(_data_uri(wave, "PNG"), "waveform", *wave.size)
    return (
        f'<figure class="wave" style="margin:0">{img}'
        f'<figcaption class="meta">{_e(caption)}</figcaption></figure>'
    )


def _video_visual(media: Media, settings: Settings) -> str:
    from PIL import Image

    count = max(1, int(settings.keyframes))
    duration = media.info.duration
    if duration and duration > 0:
        # Evenly spaced, each in the middle of its share of the clip (the first frame is often
        # black); far-apart samples make the decoder seek instead of decoding everything.
        fps, start = count / duration, duration / (2 * count)
    else:
        fps, start = 1.0, 0.0
    figures = []
    for frame in media.frames(
        fps=fps, max_frames=count, start=start, max_side=int(settings.thumbnail_px)
    ):
        im = Image.fromarray(frame.rgb)
        figures.append(
            f"<figure>{_img(_data_uri(im, 'JPEG'), f'frame at {frame.time:.2f} s', *im.size)}"
            f"<figcaption>{frame.time:.1f} s</figcaption></figure>"
        )
    if not figures:
        return _unavailable("no frames decoded")
    out = f'<div class="strip">{"".join(figures)}</div>'
    if media.info.has_audio:
        out += _guarded(lambda: _waveform_visual(media, settings))
    return out


def _text_visual(media: Media, settings: Settings) -> str:
    text = media.text()
    shown = text[:TEXT_PREVIEW_CHARS] + ("…" if len(text) > TEXT_PREVIEW_CHARS else "")
    return f"<pre>{_e(shown)}</pre>"


def _unavailable(why: str) -> str:
    return f'<p class="unavailable">preview unavailable: {_e(why)}</p>'


def _guarded(make: Callable[[], str]) -> str:
    try:
        return make()
    except SynthguardError as exc:
        return _unavailable(exc.message)
    except Exception as exc:  # noqa: BLE001 - one bad preview never breaks the page
        return _unavailable(f"{type(exc).__name__}: {exc}")


def _source_path(report: Report) -> Path:
    if report.path_b64 is not None:
        return Path(os.fsdecode(base64.b64decode(report.path_b64)))
    return Path(report.path)


def _visual(report: Report, settings: Settings) -> str:
    """The preview of one scanned file, or a line saying why there is none."""
    from synthguard.media import Kind, open_media

    # Texts need only their first lines: a small extraction bound keeps big PDFs cheap.
    preview_settings = settings.replace(max_text_chars=TEXT_PREVIEW_CHARS * 4)

    def make() -> str:
        with open_media(_source_path(report), settings=preview_settings) as media:
            if report.sha256 and media.sha256 != report.sha256:
                return _unavailable("the file changed after the scan")
            if media.kind is Kind.IMAGE:
                return _image_visual(media, settings)
            if media.kind is Kind.VIDEO:
                return _video_visual(media, settings)
            if media.kind is Kind.AUDIO:
                return _waveform_visual(media, settings)
            return _text_visual(media, settings)

    return _guarded(make)


# -- card parts -------------------------------------------------------------------------------


def _stream_line(stream: dict[str, Any]) -> str:
    parts = [f"#{stream.get('index', '?')}", str(stream.get("type", "?"))]
    if stream.get("codec"):
        parts.append(str(stream["codec"]))
    if stream.get("width") and stream.get("height"):
        parts.append(f"{stream['width']}x{stream['height']}")
    if stream.get("fps"):
        parts.append(f"{float(stream['fps']):.3g} fps")
    if stream.get("sample_rate"):
        parts.append(f"{stream['sample_rate']} Hz")
    if stream.get("channels"):
        parts.append(f"{stream['channels']} ch")
    if stream.get("duration") is not None:
        parts.append(f"{float(stream['duration']):.2f} s")
    return " ".join(parts)


def _facts(report: Report) -> str:
    media = report.media or {}
    rows: list[tuple[str, str]] = []
    if media.get("width") and media.get("height"):
        rows.append(("size", f"{media['width']} x {media['height']} px"))
    for key, label, fmt in (
        ("duration", "duration", "{:.2f} s"),
        ("fps", "frame rate", "{:.3g} fps"),
        ("frames", "frames", "{}"),
        ("sample_rate", "sample rate", "{} Hz"),
        ("channels", "channels", "{}"),
        ("pages", "pages", "{}"),
        ("animated", "animated", "{}"),
        ("mode", "colour mode", "{}"),
        ("bit_rate", "bit rate", "{} bit/s"),
        ("encoding", "encoding", "{}"),
        ("chars", "characters", "{}"),
    ):
        if media.get(key) is not None:
            rows.append((label, fmt.format(media[key])))
    if media.get("codecs"):
        rows.append(("codecs", ", ".join(str(c) for c in media["codecs"])))
    for stream in media.get("streams") or []:
        rows.append(("stream", _stream_line(stream)))
    if media.get("extra"):
        rows.append(("extra", json.dumps(media["extra"], ensure_ascii=False, default=str)))
    if report.elapsed_ms is not None:
        rows.append(("scan time", f"{report.elapsed_ms:.0f} ms"))
    if not rows:
        return ""
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f"<h3>Probe</h3><table>{body}</table>"


def _decision(report: Report) -> str:
    decision = report.decision
    if decision is None:
        return ""
    out = ["<h3>Decision</h3>"]
    label = f" (label {decision.label})" if decision.label else ""
    review = " · needs human review" if decision.review else ""
    out.append(f"<p>{_e(decision.outcome.value)}{_e(label)}{_e(review)}</p>")
    if decision.reasons:
        items = []
        for reason in decision.reasons:
            req = f" [{reason.requirement}]" if reason.requirement else ""
            items.append(f"<li><code>{_e(reason.rule)}</code>{_e(req)}: {_e(reason.message)}</li>")
        out.append(f"<ul>{''.join(items)}</ul>")
    if decision.prompt:
        out.append(f"<p>Prompt shown: {_e(decision.prompt)}</p>")
    return "".join(out)


def _evidence(items: Iterable[dict[str, Any]]) -> str:
    out = []
    for item in items:
        kind = str(item.get("type", "evidence"))
        png = item.get("png_b64")
        if isinstance(png, str) and _B64.match(png):
            # Only base64 characters reach the attribute, so a hostile detector output cannot
            # break out of it.
            uri = "data:image/png;base64," + re.sub(r"\s", "", png)
            out.append(
                f"<figure style='margin:4px 0'>{_img(uri, kind)}"
                f"<figcaption class='meta'>{_e(kind)}</figcaption></figure>"
            )
        else:
            rest = {k: v for k, v in item.items() if k != "png_b64"}
            out.append(
                f"<p class='meta'>{_e(json.dumps(rest, ensure_ascii=False, default=str))}</p>"
            )
    return "".join(out)


def _segments(detection: Detection) -> str:
    if not detection.segments:
        return ""
    head = (
        "<tr><th>start</th><th>end</th><th>score</th><th>box</th><th>track</th><th>note</th></tr>"
    )
    rows = []
    for seg in detection.segments:
        cells = [
            "" if seg.start is None else f"{seg.start:.2f} s",
            "" if seg.end is None else f"{seg.end:.2f} s",
            "" if seg.score is None else f"{seg.score:.3f}",
            "" if seg.box is None else ", ".join(f"{v:.0f}" for v in seg.box),
            "" if seg.track is None else str(seg.track),
            seg.note or "",
        ]
        rows.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in cells) + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _detections(report: Report) -> str:
    if not report.detections:
        return ""
    out = ["<h3>Detections</h3><table>"]
    for det in report.detections:
        if det.abstained or det.score is None:
            result = (
                f'<span class="abstain">abstained: {_e(det.reason or "no reason given")}</span>'
            )
        else:
            pct = max(0.0, min(100.0, det.score * 100.0))
            result = (
                f'<span class="bar"><span style="width:{pct:.1f}%"></span></span>{det.score:.3f}'
            )
            if det.reason:
                result += f" <span class='meta'>{_e(det.reason)}</span>"
        name = f"{det.detector} {det.version}"
        extra = _segments(det) + _evidence(det.evidence)
        out.append(f"<tr><th>{_e(name)}</th><td>{result}{extra}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _provenance(report: Report) -> str:
    if not report.provenance:
        return ""
    text = json.dumps(report.provenance, indent=2, ensure_ascii=False, default=str)
    return (
        "<h3>Provenance</h3><details><summary>labels found</summary>"
        f"<pre>{_e(text)}</pre></details>"
    )


def _warnings(report: Report) -> str:
    if not report.warnings:
        return ""
    items = "".join(
        f"<li><code>{_e(w.get('code', ''))}</code> {_e(w.get('message', ''))}</li>"
        for w in report.warnings
    )
    return f"<h3>Warnings</h3><ul>{items}</ul>"


def _card(report: Report, settings: Settings) -> str:
    outcome = _outcome(report)
    sha = report.sha256 or ""
    tags = []
    if report.kind:
        tags.append(f"{report.kind}/{report.format or '?'}")
    tags.append(_human_size(report.size))
    head = (
        f'<div class="head"><span class="badge b-{outcome}">{_e(outcome)}</span>'
        f'<span class="path">{_e(report.path)}</span>'
        + "".join(f'<span class="tag">{_e(t)}</span>' for t in tags)
        + (f'<span class="tag" title="{_e(sha)}">sha256 {_e(sha[:12])}…</span>' if sha else "")
        + "</div>"
    )
    if report.error is not None:
        code, message = report.error.get("code", "error"), report.error.get("message", "")
        visual = ""
        parts = [f'<p class="error"><code>{_e(code)}</code> {_e(message)}</p>']
    else:
        visual = f'<div class="visual">{_visual(report, settings)}</div>'
        parts = []
    parts += [
        _decision(report),
        _detections(report),
        _provenance(report),
        _warnings(report),
        _facts(report),
    ]
    return (
        f'<section class="card o-{outcome}" data-outcome="{outcome}" '
        f'data-kind="{_e(report.kind or "")}" data-path="{_e(report.path)}">{head}'
        f'<div class="body">{visual}<div class="facts">{"".join(parts)}</div></div></section>'
    )


def _summary(reports: Sequence[Report]) -> str:
    kinds = Counter(r.kind or "unknown" for r in reports if r.error is None)
    outcomes = Counter(_outcome(r) for r in reports)
    errors = Counter((r.error or {}).get("code", "error") for r in reports if r.error is not None)

    def box(title: str, counts: Counter[str], order: Iterable[str] = ()) -> str:
        keys = [k for k in order if counts.get(k)] + sorted(k for k in counts if k not in order)
        text = ", ".join(f"{k}: {counts[k]}" for k in keys) or "none"
        return f"<div><b>{_e(title)}</b>{_e(text)}</div>"

    return (
        '<div class="summary">'
        f"<div><b>files</b>{len(reports)}</div>"
        + box("by kind", kinds, ("image", "video", "audio", "text"))
        + box("by outcome", outcomes, OUTCOMES)
        + box("errors", errors)
        + "</div>"
    )


def _filters(reports: Sequence[Report]) -> str:
    present = {_outcome(r) for r in reports}
    boxes = "".join(
        f'<label><input type="checkbox" data-o="{o}" checked> {o}</label>'
        for o in OUTCOMES
        if o in present
    )
    return (
        '<div class="filters"><input id="q" type="search" placeholder="filter by path" '
        f'aria-label="filter by path">{boxes}</div>'
    )


def render_html(
    reports: Sequence[Report], *, settings: Settings, title: str = "synthguard scan report"
) -> str:
    """Render ``reports`` as one self-contained HTML page and return it.

    A summary (files by kind, by outcome, errors; the synthguard version and the time) heads
    one card per report: path, kind and format, size, sha256, the decision and its reasons,
    detections (score bars, abstentions, segments, evidence images), label findings, warnings,
    probe facts or the error, and a preview made by reopening the file with ``settings``
    (``thumbnail_px``, ``keyframes``). Files that failed to scan get no preview.
    """
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    cards = "".join(_card(r, settings) for r in reports)
    # Defence in depth behind the escaping: nothing loads from anywhere, and only this page's
    # own script (pinned by its hash) may run.
    script_hash = base64.b64encode(hashlib.sha256(_JS.encode("utf-8")).digest()).decode("ascii")
    csp = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{script_hash}'; base-uri 'none'; form-action 'none'"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1>"
        f'<div class="meta">synthguard {_e(__version__)} · generated {_e(generated)}</div>'
        f"{_summary(reports)}{_filters(reports)}<main>{cards}</main>"
        f"<script>{_JS}</script></body></html>\n"
    )
