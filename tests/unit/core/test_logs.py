"""Logging set up by the server commands: levels per logger, text or JSON lines, the request
id on every line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from goldenpath.errors import ConfigurationError
from goldenpath.logs import configure_logging, request_id


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    watched = {name: logging.getLogger(name).level for name in ("procrastinate", "goldenpath")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in watched.items():
        logging.getLogger(name).setLevel(old)


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_carry_level_logger_message_and_request_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging({"GOLDENPATH_LOG_FORMAT": "json"})
    token = request_id.set("req-42")
    try:
        logging.getLogger("goldenpath.service").info("request %s queued", "abc")
    finally:
        request_id.reset(token)
    logging.getLogger("procrastinate.worker").info("Starting worker")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(x["level"], x["logger"], x["message"], x["request_id"]) for x in lines] == [
        ("INFO", "goldenpath.service", "request abc queued", "req-42"),
        ("INFO", "procrastinate.worker", "Starting worker", "-"),
    ]
    assert all("asctime" in x for x in lines)


@pytest.mark.usefixtures("restore_logging")
def test_levels_per_logger_and_the_text_format(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(
        {"GOLDENPATH_LOG_LEVEL": "debug", "GOLDENPATH_LOG_LEVELS": "procrastinate=WARNING"}
    )
    configure_logging(
        {"GOLDENPATH_LOG_LEVEL": "debug", "GOLDENPATH_LOG_LEVELS": "procrastinate=WARNING"}
    )
    logging.getLogger("procrastinate.worker").info("hidden")
    logging.getLogger("procrastinate.worker").warning("shown")
    logging.getLogger("goldenpath.runner").debug("step started")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2, lines  # configured twice, still one handler of ours
    assert "WARNING procrastinate.worker [-] shown" in lines[0]
    assert "DEBUG   goldenpath.runner [-] step started" in lines[1]


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"GOLDENPATH_LOG_LEVEL": "loud"}, "GOLDENPATH_LOG_LEVEL"),
        ({"GOLDENPATH_LOG_FORMAT": "xml"}, "GOLDENPATH_LOG_FORMAT"),
        ({"GOLDENPATH_LOG_LEVELS": "procrastinate"}, "GOLDENPATH_LOG_LEVELS"),
        ({"GOLDENPATH_LOG_LEVELS": "procrastinate=chatty"}, "GOLDENPATH_LOG_LEVELS"),
    ],
)
@pytest.mark.usefixtures("restore_logging")
def test_a_bad_logging_setting_is_refused_naming_it(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        configure_logging(environ)
