"""One processor chain for every log line, Doorstep's and its libraries': JSON or plain text.

uvicorn, alembic, dramatiq and Doorstep all log through the standard library; the root handler
formats each record with structlog's ``ProcessorFormatter``, so a line from any of them gets the
same fields (timestamp, level, logger, event, the request id while a request is answered) and
passes the same scrubbing (``log_rules``) before it is written.
"""

from __future__ import annotations

import logging
import logging.config
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog

from doorstep.platform.observe import log_rules

LogFormat = Literal["json", "plain"]
#: The fields a record may carry into its line through ``extra=``; anything else a library
#: attaches (uvicorn's coloured copy of the message, say) is left out.
EXTRA_FIELDS = ("method", "route", "status", "duration_ms", "network")

EventDict = MutableMapping[str, Any]


def scrub(_logger: object, _name: str, event_dict: EventDict) -> EventDict:
    """The structlog processor applying ``log_rules.scrub_fields``: the last net before output.

    The line's own fields come first, in the same order on every line, for a reader's eye.
    """
    fields = log_rules.scrub_fields(event_dict)
    first = ("timestamp", "level", "logger", "event")
    head: dict[str, Any] = {key: fields.pop(key) for key in first if key in fields}
    return {**head, **fields}


def plain_line(_logger: object, _name: str, event_dict: EventDict) -> str:
    """``LEVEL logger: event key=value ...``, the traceback on the lines below."""
    fields = dict(event_dict)
    head = f"{str(fields.pop('level', '')).upper()} {fields.pop('logger', '')}: "
    head += str(fields.pop("event", ""))
    fields.pop("timestamp", None)
    trace = fields.pop("exception", None)
    rest = "".join(f" {key}={value}" for key, value in fields.items())
    return head + rest + (f"\n{trace}" if trace else "")


def _shared() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def make_formatter(log_format: LogFormat) -> logging.Formatter:
    """A formatter rendering any record, Doorstep's or a library's, in ``log_format``, scrubbed."""
    renderer = structlog.processors.JSONRenderer() if log_format == "json" else plain_line
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_shared(), structlog.stdlib.ExtraAdder(allow=EXTRA_FIELDS)],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            scrub,
            renderer,
        ],
    )


def logging_config(log_format: LogFormat, level: str = "INFO") -> dict[str, Any]:
    """The ``dictConfig`` of a Doorstep process: one stderr handler, uvicorn's access log off.

    uvicorn's access log names the client's address and the full path, query and ids included;
    ``platform.http.middleware.AccessLog`` writes Doorstep's own line instead.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {log_format: {"()": make_formatter, "log_format": log_format}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # uvicorn writes its access line only when this logger has somewhere to write it.
            "uvicorn.access": {"handlers": [], "propagate": False},
            # A line per outgoing HTTP call (spans to the collector, pushes) says nothing useful.
            "httpx": {"level": "WARNING"},
            # Alembic lists every plugin it loads in each process: lines that say nothing.
            "alembic.runtime.plugins": {"level": "WARNING"},
        },
    }


def configure(log_format: LogFormat, level: str = "INFO") -> None:
    """Send this process's logging, stdlib and structlog alike, through the chain."""
    logging.config.dictConfig(logging_config(log_format, level))
    structlog.configure(
        processors=[*_shared(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
