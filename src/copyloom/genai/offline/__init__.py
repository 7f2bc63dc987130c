"""The offline generator (no language model)."""

from copyloom.genai.offline.generator import OFFLINE_LOCALES, FeedbackHints, OfflineGenerator

__all__ = ["OFFLINE_LOCALES", "FeedbackHints", "OfflineGenerator"]
