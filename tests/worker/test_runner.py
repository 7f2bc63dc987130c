"""The runner choice and the retry policy, without a broker."""

from __future__ import annotations

import random

from pydantic import SecretStr
from typer.testing import CliRunner

from copyloom.cli import app
from copyloom.config import Settings
from copyloom.content.tasks import InProcessRunner
from copyloom.errors import ModelError, NotFound
from copyloom.worker import CeleryRunner, build_runner
from copyloom.worker.celery_app import TASK_NAME, create_celery_app, is_permanent, retry_delay


def test_without_a_broker_tasks_run_in_process_and_with_one_they_go_to_celery() -> None:
    built: list[str] = []

    def context() -> object:
        built.append("ctx")
        return object()

    local = build_runner(Settings(), context)  # type: ignore[arg-type]
    assert isinstance(local, InProcessRunner)
    local.shutdown()
    remote = build_runner(Settings(broker_url=SecretStr("redis://127.0.0.1:1/0")), context)  # type: ignore[arg-type]
    assert isinstance(remote, CeleryRunner)
    assert built == ["ctx"]  # a process that only sends work never builds the content engine for it
    assert TASK_NAME in remote.app.tasks
    remote.shutdown()


def test_celery_app_acknowledges_late_and_reserves_one_message_at_a_time() -> None:
    settings = Settings(broker_url=SecretStr("redis://127.0.0.1:1/0"), worker_visibility_timeout_s=120)
    conf = create_celery_app(settings).conf
    assert (conf.task_acks_late, conf.task_reject_on_worker_lost, conf.worker_prefetch_multiplier) == (True, True, 1)
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.broker_transport_options["visibility_timeout"] == 120
    assert "copyloom.content.campaigns.service" in conf.imports


def test_retry_delay_doubles_with_jitter_and_stays_below_half_the_visibility_timeout() -> None:
    settings = Settings(worker_retry_backoff_s=2, worker_retry_backoff_max_s=300, worker_visibility_timeout_s=100)
    rng = random.Random(1)
    for retries, ceiling in [(0, 2), (1, 4), (2, 8), (3, 16), (10, 50)]:
        delays = [retry_delay(settings, retries, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)


def test_only_failures_that_may_pass_next_time_are_retried() -> None:
    assert is_permanent(NotFound("no campaign"))
    assert not is_permanent(ModelError("bad gateway"))
    assert not is_permanent(ConnectionError("database down"))


def test_worker_command_without_a_broker_says_what_to_set() -> None:
    result = CliRunner().invoke(app, ["worker"])
    assert result.exit_code == 2
    assert "COPYLOOM_BROKER_URL" in result.output
