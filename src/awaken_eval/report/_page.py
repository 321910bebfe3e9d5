"""The report's HTML page: one file, its scripts and styles inline, no network at all.

The page's Content-Security-Policy starts from ``default-src 'none'`` and allows only
the inline scripts and the style sheet it carries, by their SHA-256 hashes: the browser
refuses any request the page (or a chart) might try, and any other script. The run
document is a non-executed ``application/json`` script block, escaped so that no text
of the run can close it.

Charts use Vega-Lite 6 compiled in the page and run by Vega 6 with its CSP-safe
expression interpreter (no ``eval``). Vega-Lite and Vega together are about 0.8 MB
minified, where plotly.js alone is about 4.6 MB: the choice leaves room for the
items under the 5 MB budget of a 1,000-item report.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["SCRIPT_ASSETS", "page"]

SCRIPT_ASSETS: tuple[str, ...] = (
    "report.js",
    "vega.min.js",
    "vega-lite.min.js",
    "vega-interpreter.js",
)
"""The inline scripts of a page, in load order: the page's own script first, so that
the header and the table are drawn before the chart libraries are parsed; it draws the
charts once the page has loaded."""

_STYLE_ASSET = "report.css"

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="awaken-eval">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<header>
<h1 id="title">{title}</h1>
<div id="subtitle" class="muted"></div>
<dl id="summary" class="summary"></dl>
</header>
<section id="diff" hidden>
<h2 id="diff-title">Diff</h2>
</section>
<section>
<h2>Charts</h2>
<div id="charts" class="charts"></div>
</section>
<section id="items">
<h2>Items</h2>
<div class="controls">
<label>status <select id="filter-status">
<option value="">all</option><option value="pass">pass</option>
<option value="fail">fail</option><option value="error">error</option>
</select></label>
<label>model <select id="filter-model"><option value="">all</option></select></label>
<input id="filter-text" type="search" placeholder="fixture id or failure kind" \
aria-label="filter by fixture id or failure kind">
</div>
<table>
<thead><tr id="items-head"></tr></thead>
<tbody id="items-body"></tbody>
</table>
<div class="pager">
<button id="page-prev" type="button">previous</button>
<button id="page-next" type="button">next</button>
<span id="page-info" class="muted"></span>
</div>
</section>
<noscript><p>This report draws its tables and charts with JavaScript.</p></noscript>
<script type="application/json" id="report-data">{data}</script>
{scripts}
</body>
</html>
"""


@cache
def _asset(name: str) -> str:
    return resources.files("awaken_eval.report").joinpath("_assets", name).read_text("utf-8")


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


@cache
def _static_parts() -> tuple[str, str, str]:
    """The script tags, the style sheet and the policy (the same for every page)."""
    scripts = [_asset(name) for name in SCRIPT_ASSETS]
    style = _asset(_STYLE_ASSET)
    csp = "; ".join(
        (
            "default-src 'none'",
            "script-src " + " ".join(_hash(script) for script in scripts),
            "style-src " + _hash(style),
            "base-uri 'none'",
            "form-action 'none'",
        )
    )
    tags = "\n".join(f"<script>{script}</script>" for script in scripts)
    return tags, style, csp


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinity replaced by ``None`` (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _json_for_script(document: Any) -> str:
    """``document`` as JSON that cannot end its ``<script>`` block early.

    A record built in Python may hold a NaN or an infinite float (a score, a cost): it
    is shown as missing rather than breaking the page.
    """
    try:
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:  # a non-finite float somewhere: the rare path walks the document
        text = json.dumps(
            _finite(document), ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
    # "<" only occurs inside JSON strings, where \u003c means the same character.
    return text.replace("<", "\\u003c")


def page(document: dict[str, Any]) -> str:
    """The HTML page showing ``document`` (a report payload)."""
    tags, style, csp = _static_parts()
    header = document["header"]
    title = f"awaken-eval report · {header['dataset_id']} · run {header['run_id']}"
    return _TEMPLATE.format(
        csp=html.escape(csp, quote=False),  # the policy holds no double quote
        title=html.escape(title),
        style=style,
        data=_json_for_script(document),
        scripts=tags,
    )
