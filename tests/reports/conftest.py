"""The reports tests reuse the console transcript of the care tests (tests/care/care_transcript.py)."""

from __future__ import annotations

import sys
from pathlib import Path

CARE = str(Path(__file__).resolve().parents[1] / "care")
if CARE not in sys.path:
    sys.path.insert(0, CARE)
