"""Published flows and their version history (write side)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from core.models import Flow, FlowVersion

# Versions are stored as 32-bit integers, as the contract bounds them.
MAX_VERSION = 2_147_483_647


class NoVersionLeft(ValueError):
    """A changed tree without a version for a flow already at the highest version."""


@dataclass(frozen=True)
class FlowUpsert:
    created_flow: bool
    created_version: bool
    changed: bool


def upsert_imported_flow(
    db: OrmSession,
    account_id: int,
    external_id: str,
    name: str,
    domain: str | None,
    tree: dict[str, Any],
    version: int | None,
    now: datetime,
    published_at: datetime | None = None,
) -> FlowUpsert:
    """Apply one imported flow record, idempotently.

    With a version, that version's tree is set (created or replaced). Without one, the tree
    becomes a new version only when it differs from the current one, so re-importing the same
    file never adds versions. The version went live at ``published_at`` when the record says
    so, else at its import (``now``).
    """
    flow = db.scalars(
        select(Flow).where(Flow.account_id == account_id, Flow.external_id == external_id)
    ).one_or_none()
    created_flow = flow is None
    if flow is None:
        flow = Flow(account_id=account_id, external_id=external_id, name=name, domain=domain,
                    current_version=version or 1, created_at=now, updated_at=now)
        db.add(flow)
        db.flush()
    changed = created_flow or flow.name != name or flow.domain != domain
    flow.name, flow.domain = name, domain

    versions = {v.version: v for v in flow.versions}
    if version is None:
        current = versions.get(flow.current_version)
        version = flow.current_version if current is None or current.tree == tree else max(versions) + 1
        if version > MAX_VERSION:
            raise NoVersionLeft(f"flow {external_id!r} is at version {MAX_VERSION:,}, the highest there is: "
                                "give this tree a version to replace")
    existing = versions.get(version)
    created_version = existing is None
    if existing is None:
        flow.versions.append(FlowVersion(version=version, tree=tree, source="import", published_at=published_at or now))
        changed = True
    elif existing.tree != tree:
        existing.tree = tree
        existing.published_at = published_at or now
        changed = True
    elif published_at is not None and existing.published_at != published_at:
        existing.published_at = published_at
        changed = True
    flow.current_version = max(version, *versions) if versions else version
    if changed:
        flow.updated_at = now
    return FlowUpsert(created_flow, created_version, changed)
