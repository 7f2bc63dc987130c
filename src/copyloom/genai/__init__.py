"""Generation: chat-model factory, token counting, structured generation, the offline generator, budgets."""

from copyloom.genai.budget import BudgetStatus, budget_status, check_budget, record_usage
from copyloom.genai.chat import build_chat_model
from copyloom.genai.factory import (
    GENERATORS,
    build_generator,
)
from copyloom.genai.llm import LlmGenerator
from copyloom.genai.offline import OfflineGenerator
from copyloom.genai.types import (
    GenerationRequest,
    GenerationResult,
    Generator,
    GeneratorInfo,
    RefineOperation,
    RefineRequest,
    Usage,
)

__all__ = [
    "GENERATORS",
    "BudgetStatus",
    "GenerationRequest",
    "GenerationResult",
    "Generator",
    "GeneratorInfo",
    "LlmGenerator",
    "OfflineGenerator",
    "RefineOperation",
    "RefineRequest",
    "Usage",
    "budget_status",
    "build_chat_model",
    "build_generator",
    "check_budget",
    "record_usage",
]
