"""The brand kit repository: the one mapping between the ``brand_kits`` row and ``BrandKitSpec``, and its reads.

Readers that need only the policies (the gate, the budgets) read them here too, so a policy default is decided
in one place."""

from __future__ import annotations

from sqlalchemy.orm import Session

from copyloom.contracts.brand import BrandKitSpec, BrandPolicies
from copyloom.domain.imports import Outcome, assign_changes
from copyloom.errors import NotFound
from copyloom.models import BrandKit, Workspace


def spec_of(row: BrandKit) -> BrandKitSpec:
    """The stored row as the kit that was put (the one mapping from the table to ``BrandKitSpec``)."""
    return BrandKitSpec.model_validate(
        {
            "name": row.name,
            "voice": row.voice,
            "formality": row.formality,
            "emoji_policy": row.emoji_policy,
            "max_exclamations": row.max_exclamations,
            "banned_phrases": row.banned_phrases,
            "competitor_names": row.competitor_names,
            "required_footer": row.required_footer,
            "sender_identity": row.sender_identity,
            "postal_address": row.postal_address,
            "locales": row.locales,
            "policies": row.policies or {},
        }
    )


def get_brand_kit(session: Session, workspace_id: str) -> BrandKitSpec:
    """The workspace's brand kit (NotFound ``brand_kit_not_found`` before the first ``PUT /v1/brand``)."""
    row = session.get(BrandKit, workspace_id)
    if row is None:
        raise NotFound("this workspace has no brand kit yet: PUT /v1/brand", code="brand_kit_not_found")
    return spec_of(row)


def save_brand_kit(session: Session, workspace_id: str, spec: BrandKitSpec) -> Outcome:
    """Replace the brand kit with ``spec`` (the whole kit: a PUT); identical data is "unchanged"."""
    row = session.get(BrandKit, workspace_id)
    values = spec.model_dump(mode="json")
    if row is None:
        row = BrandKit(workspace_id=workspace_id)
        assign_changes(row, values)
        session.add(row)
        session.flush()
        return "inserted"
    if spec_of(row) == spec:
        return "unchanged"
    assign_changes(row, values)
    session.flush()
    return "updated"


def load_brand_spec(session: Session, workspace_id: str) -> BrandKitSpec:
    """The workspace's brand kit; a bare kit named after the workspace when none was uploaded."""
    row = session.get(BrandKit, workspace_id)
    if row is None:
        ws = session.get(Workspace, workspace_id)
        return BrandKitSpec(name=ws.name if ws is not None else workspace_id)
    return spec_of(row)


def load_brand_policies(session: Session, workspace_id: str) -> BrandPolicies:
    """The workspace's policies; the defaults when it has no brand kit or the kit sets none."""
    kit = session.get(BrandKit, workspace_id)
    return BrandPolicies.model_validate(kit.policies or {}) if kit is not None else BrandPolicies()
