"""Sends through a real queue: Redis and RabbitMQ (running here and in CI), and the in-process stub.

A broker that is down is a failure with a clear message, not a skip: these
tests prove the queue works, so they must not pass silently without it.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from dramatiq import Broker

from pulsecrm.jobs.actors import declare_actors, enqueue_batches
from pulsecrm.jobs.broker import QueueUnavailable, build_broker, check_broker
from pulsecrm.jobs.runtime import use_kernel
from pulsecrm.jobs.worker import start_worker
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.marketing import campaign_sends
from pulsecrm.settings import Settings
from tests.marketing.send_helpers import campaign, person, publish_all, rows

URLS = {
    "in-process": None,
    "redis": "redis://127.0.0.1:6379/0",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672/%2F",
}


@pytest.fixture(params=sorted(URLS))
def queue_url(request: pytest.FixtureRequest) -> str | None:
    return URLS[str(request.param)]


def _broker(url: str | None, namespace: str) -> Broker:
    settings = Settings(queue_url=url)
    broker = build_broker(settings, namespace=namespace)
    try:
        check_broker(broker, settings)
    except QueueUnavailable as exc:
        pytest.fail(f"{exc} — these tests need the broker running (CI starts it)")
    return broker


@pytest.fixture
def brokers(queue_url: str | None) -> Iterator[tuple[list[Broker], str]]:
    """Two brokers (two "hosts") on one queue — or one in-process stub."""
    namespace = f"pulsecrm-test-{uuid.uuid4().hex[:8]}"
    queue = f"send-{uuid.uuid4().hex[:8]}"
    made = [_broker(queue_url, namespace) for _ in range(1 if queue_url is None else 2)]
    yield made, queue
    for broker in made:
        try:
            broker.flush_all()
            channel = getattr(broker, "channel", None)
            if channel is not None:
                for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
                    channel.queue_delete(name)
        finally:
            broker.close()


def _outbox_lines(app: Kernel) -> list[dict[str, Any]]:
    path = app.settings.home / "outbox" / "outbox.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.req("C1")
def test_a_campaign_sent_through_the_queue_by_two_workers_reaches_everyone_once(
    app: Kernel, brokers: tuple[list[Broker], str]
) -> None:
    made, queue = brokers
    notice = publish_all(app)
    people = [person(app, notice, f"1380013850{n}") for n in range(6)]
    campaign_id = campaign(app, channel="outbox")
    with app.engine.begin() as conn:
        ids = campaign_sends.enqueue_campaign(
            conn, tenant_id=app.tenant_id(), campaign_id=campaign_id
        )
    use_kernel(app)
    workers = []
    try:
        for broker in made:
            workers.append(start_worker(broker, threads=2, queue_name=queue))
        actors = declare_actors(made[0], queue_name=queue)
        assert (
            enqueue_batches(actors, tenant_id=app.tenant_id(), message_ids=ids, batch_size=1) == 6
        )
        # The same jobs delivered again (a redelivery after a lost ack) change nothing.
        enqueue_batches(actors, tenant_id=app.tenant_id(), message_ids=ids, batch_size=3)
        for broker in made:
            broker.join(queue, timeout=60_000)
        for worker in workers:
            worker.join()
    finally:
        for worker in workers:
            worker.stop()
        use_kernel(None)
    assert {r["status"] for r in rows(app, campaign_id).values()} == {"sent"}
    sent = Counter(line["message_id"] for line in _outbox_lines(app))
    assert sorted(sent) == sorted(ids) and set(sent.values()) == {1}
    assert len(people) == 6


def test_an_unreachable_broker_is_named_in_the_error() -> None:
    settings = Settings(queue_url="redis://127.0.0.1:1/0")
    with pytest.raises(QueueUnavailable) as caught:
        check_broker(build_broker(settings), settings)
    assert "redis://127.0.0.1:1" in str(caught.value)
    with pytest.raises(QueueUnavailable):
        build_broker(Settings(queue_url="kafka://127.0.0.1"))


def test_cli_campaign_send_runs_in_process_and_marks_the_campaign_done(
    app: Kernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from pulsecrm.cli.main import app as cli
    from pulsecrm.marketing.campaigns import load_campaign
    from pulsecrm.marketing.scheduling import schedule_campaign
    from tests.helpers import ctx

    monkeypatch.delenv("PULSECRM_QUEUE_URL", raising=False)
    notice = publish_all(app)
    for n in range(3):
        person(app, notice, f"1380013851{n}")
    campaign_id = campaign(app, channel="outbox")
    draft = CliRunner().invoke(cli, ["campaign", "send", campaign_id])
    assert draft.exit_code == 2 and "only a scheduled campaign" in draft.output
    manager = ctx(app, "marketing_manager", "marketing.sms", actor="li.marketing")
    with app.engine.begin() as conn:
        schedule_campaign(conn, app, manager, campaign_id)
    result = CliRunner().invoke(cli, ["campaign", "send", campaign_id, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["queued"] == 3 and summary["messages"] == {"sent": 3}
    with app.engine.connect() as conn:
        assert load_campaign(conn, app.tenant_id(), campaign_id).status == "done"
    assert len(_outbox_lines(app)) == 3


def test_api_send_starts_a_scheduled_campaign_in_process(
    app: Kernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pulsecrm.marketing.campaigns import load_campaign
    from pulsecrm.marketing.scheduling import schedule_campaign
    from tests.helpers import ctx
    from tests.marketing.send_helpers import api_client, bearer

    notice = publish_all(app)
    for n in range(3):
        person(app, notice, f"1380013852{n}")
    campaign_id = campaign(app, channel="outbox")
    manager = bearer(app, "li.marketing", "marketing_manager")
    with api_client(app) as client:
        draft = client.post(f"/api/v1/campaigns/{campaign_id}/send", headers=manager)
        assert draft.status_code == 409 and draft.json()["error"]["field"] == "status"
        who = ctx(app, "marketing_manager", "marketing.sms", actor="li.marketing")
        with app.engine.begin() as conn:
            schedule_campaign(conn, app, who, campaign_id)
        refused = client.post(
            f"/api/v1/campaigns/{campaign_id}/send",
            headers=bearer(app, "amy.consultant", "consultant"),
        )
        assert refused.status_code == 403
        r = client.post(f"/api/v1/campaigns/{campaign_id}/send", headers=manager)
        assert r.status_code == 202 and r.json() == {
            "campaign_id": campaign_id,
            "queued": 3,
            "mode": "in_process",
        }
        report = client.get(f"/api/v1/campaigns/{campaign_id}/attribution", headers=manager)
    assert report.json()["messages"] == {"sent": 3}
    with app.engine.connect() as conn:
        assert load_campaign(conn, app.tenant_id(), campaign_id).status == "done"
