"""``copyloom import …`` through typer's CliRunner against the isolated data directory."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from copyloom.cli import app
from copyloom.config import get_settings
from copyloom.db import make_engine, make_session_factory, write
from copyloom.models import IndexEntry
from tests.domain.test_online_retail import SAMPLE

runner = CliRunner()


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_csv_and_ndjson_imports_are_idempotent(tmp_path: Path) -> None:
    _ok("workspaces", "create", "acme")
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "id,name,email,phone,country,attributes.tier\n"
        "c1,Ana,ana@example.com,+351 912 345 678,PT,gold\n"
        "c2,Li Lei,lilei@example.cn,13800138000,CN,\n"
        "c3,Broken,not-an-email,,,\n",
        encoding="utf-8",
    )
    report = json.loads(_ok("import", "customers", str(customers), "--workspace", "acme", "--json"))
    assert (report["inserted"], report["skipped_count"]) == (2, 1)
    assert (report["skipped"][0]["row"], report["skipped"][0]["field"]) == (3, "email")
    again = json.loads(_ok("import", "customers", str(customers), "-w", "acme", "--json"))
    assert (again["inserted"], again["unchanged"]) == (0, 2)
    consents = tmp_path / "consents.ndjson"
    consents.write_text(
        json.dumps({"customer_id": "c1", "purpose": "marketing", "channel": "email", "status": "granted",
                    "recorded_at": "2026-01-01T00:00:00Z"}) + "\n"
        + json.dumps({"customer_id": "c1", "purpose": "sale", "channel": "email", "status": "granted"}) + "\n"
    )  # fmt: skip
    out = _ok("import", "consents", str(consents), "-w", "acme")
    assert "1 inserted" in out and "1 skipped" in out


def test_products_offers_and_events_files(tmp_path: Path) -> None:
    _ok("workspaces", "create", "acme")
    products = tmp_path / "products.csv"
    products.write_text("sku,name,price,currency,active\nTENT,Trail Tent,249.00,GBP,true\nMUG,Mug,x,GBP,true\n")
    assert "1 inserted" in _ok("import", "products", str(products), "-w", "acme")
    # The import embeds what it added, so search sees the new product at once.
    with write(make_session_factory(make_engine(get_settings().effective_database_url))) as s:
        assert [e.doc_id for e in s.query(IndexEntry).filter_by(workspace_id="acme")] == ["product:TENT"]
    offers = tmp_path / "offers.json"
    offers.write_text(
        json.dumps([{"id": "spring", "title": "Spring", "discount_value": 20, "eligible_skus": ["TENT"]}])
    )
    assert "1 inserted" in _ok("import", "offers", str(offers), "-w", "acme")
    events = tmp_path / "events.csv"
    events.write_text("customer_id,name,timestamp,properties.city\nnobody,Event Attended,2026-01-01T10:00:00Z,Leeds\n")
    result = runner.invoke(app, ["import", "events", str(events), "-w", "acme"])
    assert result.exit_code == 0 and "customer_not_found" in result.output


def test_unknown_workspace_and_extension_fail_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "x.txt"
    data.write_text("id\n1\n")
    result = runner.invoke(app, ["import", "customers", str(data), "-w", "ghost"])
    assert result.exit_code == 2 and "workspace_not_found" in result.output
    _ok("workspaces", "create", "acme")
    result = runner.invoke(app, ["import", "customers", str(data), "-w", "acme"])
    assert result.exit_code == 2 and "invalid_input (file)" in result.output


def test_online_retail_sample_twice() -> None:
    _ok("workspaces", "create", "retail")
    first = json.loads(_ok("import", "online-retail", str(SAMPLE), "-w", "retail", "--json"))
    assert (first["customers"]["inserted"], first["orders"]["inserted"]) == (51, 61)
    out = _ok("import", "online-retail", str(SAMPLE), "-w", "retail")
    assert "customers: 0 inserted" in out and "orders: 0 inserted, 0 updated, 61 unchanged" in out


def test_consent_grant_to_all_or_to_a_list_with_its_source(tmp_path: Path) -> None:
    _ok("workspaces", "create", "acme")
    customers = tmp_path / "customers.csv"
    customers.write_text("id,name\nc1,Ana\nc2,Bo\nc3,Cy\n")
    _ok("import", "customers", str(customers), "-w", "acme")
    grant = ["import", "consents", "-w", "acme", "--grant", "marketing:email", "--source", "signup form", "--json"]
    report = json.loads(_ok(*grant, "--all"))
    assert (report["inserted"], report["skipped_count"]) == (3, 0)
    audience = tmp_path / "audience.txt"
    audience.write_text("c1\nc9\n")
    sms = json.loads(_ok(*grant[:5], "marketing:sms", *grant[6:], "--customers", str(audience)))
    assert (sms["inserted"], sms["skipped"][0]["reason"]) == (1, "customer_not_found")
    assert json.loads(_ok(*grant, "--all"))["unchanged"] == 3  # re-running changes nothing
    for bad in (
        ["import", "consents", "-w", "acme", "--grant", "marketing:email", "--all"],  # no --source
        ["import", "consents", "-w", "acme", "--grant", "marketing:email", "--source", "x"],  # no audience
        ["import", "consents", "-w", "acme", "--grant", "marketing:fax", "--source", "x", "--all"],
    ):
        result = runner.invoke(app, bad)
        assert result.exit_code == 2, result.output
