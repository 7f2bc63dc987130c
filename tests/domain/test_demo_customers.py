"""What ``copyloom demo`` says about each demo customer."""

from __future__ import annotations

from datetime import date

from copyloom.domain.demo import describe_demo_customers


def test_each_special_case_is_named() -> None:
    by_id = {c.id: c for c in describe_demo_customers(date(2026, 12, 1))}
    assert any(s.startswith("minor (15") for s in by_id["C1006"].special)
    assert any(s.startswith("suppressed:") for s in by_id["C1005"].special)
    assert "withdrew marketing on sms" in by_id["C1002"].special
    assert "marketing consent: email" in by_id["C1002"].special  # the later withdrawal holds for sms
    assert "Chinese-speaking" in by_id["C2001"].special and by_id["C2001"].locale == "zh-CN"
    assert by_id["C1001"].special == ["marketing consent: email, sms, push, in_app, whatsapp, web"]
