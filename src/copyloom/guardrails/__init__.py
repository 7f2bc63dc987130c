"""copyloom.guardrails: the consent/fatigue/timing gate before generation and the checks after it.

Public API::

    load_gate_input(session, workspace_id, customer_id, now) -> GateInput
    evaluate_gate(snapshot, *, channel, purpose, now, send_at=None, realtime) -> GateDecision
    run_checks(variant, ctx) -> GuardrailReport          # CHECKS: name → Check
    repair_feedback(report) -> list[str]
    sanitize_untrusted(text, max_len) -> str; scan_note_for_injection(text) -> CheckResult
    render_email_footer(brand) -> str; count_segments(text) -> SegmentInfo; normalize_sms(text) -> str
"""

from copyloom.contracts.sms import SegmentInfo, count_segments, normalize_sms
from copyloom.contracts.untrusted import sanitize_untrusted
from copyloom.guardrails.channel import check_channel, render_email_footer
from copyloom.guardrails.context import ChannelLimits, Check, CheckContext
from copyloom.guardrails.gate import EventSummary, GateDecision, GateInput, GateReason, evaluate_gate
from copyloom.guardrails.gate_loader import load_gate_input
from copyloom.guardrails.grounding import check_grounding
from copyloom.guardrails.injection import scan_note_for_injection
from copyloom.guardrails.pii import check_pii
from copyloom.guardrails.pipeline import CHECKS, repair_feedback, run_checks
from copyloom.guardrails.relevance import check_relevance
from copyloom.guardrails.tone import check_tone
from copyloom.guardrails.types import CheckResult, Evidence, GuardrailReport, Verdict

__all__ = [
    "CHECKS",
    "ChannelLimits",
    "Check",
    "CheckContext",
    "CheckResult",
    "EventSummary",
    "Evidence",
    "GateDecision",
    "GateInput",
    "GateReason",
    "GuardrailReport",
    "SegmentInfo",
    "Verdict",
    "check_channel",
    "check_grounding",
    "check_pii",
    "check_relevance",
    "check_tone",
    "count_segments",
    "evaluate_gate",
    "load_gate_input",
    "normalize_sms",
    "render_email_footer",
    "repair_feedback",
    "run_checks",
    "sanitize_untrusted",
    "scan_note_for_injection",
]
