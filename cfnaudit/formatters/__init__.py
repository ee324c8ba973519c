"""Pure render functions: a `Report` in, text out."""

from __future__ import annotations

FORMATS = ("text", "json", "sarif", "github")
