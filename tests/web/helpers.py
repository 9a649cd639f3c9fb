"""Helpers of the web tests: pull the map data and the inline script out of a rendered page."""
from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def inline_scripts(html: str) -> list[str]:
    return _SCRIPT.findall(html)


def script_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def layer_payload(html: str, factory: str) -> Any:
    """The JSON a ``Parkwacht.<factory>(...)`` call in the page's script receives."""
    start = html.index(f"Parkwacht.{factory}(") + len(f"Parkwacht.{factory}(")
    start = html.index("{", start)  # legend(map, {...}) takes the map first
    decoder = json.JSONDecoder()
    value, _ = decoder.raw_decode(html[start:])
    return value
