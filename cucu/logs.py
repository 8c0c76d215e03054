"""Our loggers to stderr, like Streamlit's own: the server log an operator reads (the journal)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

LOGGERS = ("cucu", "contingencia")


def configure_logging(environ: Mapping[str, str]) -> None:
    """Once per process; ``CUCU_LOG_LEVEL`` (default INFO) sets the level."""
    level = environ.get("CUCU_LOG_LEVEL", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        level = "INFO"
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not logger.handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            logger.addHandler(handler)
            logger.setLevel(level)
            logger.propagate = False
