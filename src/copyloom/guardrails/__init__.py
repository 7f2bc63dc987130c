"""copyloom.guardrails"""
