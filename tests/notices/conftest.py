"""The notice tests import their world from this folder."""
