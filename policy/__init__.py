"""branch-policy: one engine that enforces a research repository's branch model."""

__version__ = "0.1.0"
