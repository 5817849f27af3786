"""The queue tests' import path (the RabbitMQ node itself is ``tests/conftest.py``'s)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent / "dispatch"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
