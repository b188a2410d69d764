"""What `make run` does before it starts anything: schema, demo data, a demo admin."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session as OrmSession

from core.accounts.passwords import generate_password
from core.accounts.users import add_user, user_exists
from core.db import require_current_schema, unit_of_work
from core.models import Account, Session, User
from core.sessions.importer import ProgressCallback
from core.settings import Settings

DEMO_ADMIN_EMAIL = "admin@flowpilot.example"
DEMO_SESSIONS = 20000


def prepare(engine: Engine, settings: Settings, progress: ProgressCallback | None = None) -> Iterator[str]:
    """Bring the database to a usable state, saying what was done, step by step."""
    upgraded = require_current_schema(engine, auto_upgrade=settings.uses_embedded_database)
    if upgraded is None:
        yield "Database schema is current."
    elif upgraded.empty:
        yield f"Created the database schema (revision {upgraded.head})."
    else:
        yield f"Upgraded the database schema from revision {upgraded.current} to {upgraded.head}."

    with unit_of_work(engine) as db:
        has_sessions = db.scalar(select(func.count()).select_from(select(Session.id).limit(1).subquery())) > 0
    if not has_sessions:
        from core.demo.loader import run_demo

        yield f"The database is empty: loading demo data ({DEMO_SESSIONS:,} sessions)..."
        summary = run_demo(engine, sessions=DEMO_SESSIONS, progress=progress)
        yield summary.describe()

    created_admin = False
    with unit_of_work(engine) as db:
        if db.scalar(select(func.count()).select_from(User)) == 0:
            password = generate_password()
            slugs = db.scalars(select(Account.slug).order_by(Account.slug)).all()
            for slug in slugs:
                add_user(db, DEMO_ADMIN_EMAIL, slug, "admin", password)
            if slugs:
                created_admin = True
                yield (f"Created the demo admin {DEMO_ADMIN_EMAIL} (admin of {', '.join(slugs)}).\n"
                       f"Its password, shown only this once: {password}")
        else:
            yield lost_password_hint(db)

    if created_admin and not has_sessions:
        # Only on the run that loaded the demo: the audit log of a real database is never touched.
        from core.demo.reviews import record_demo_decisions

        yield "Analysing the demo sessions and recording a few review decisions by the demo admin..."
        yield record_demo_decisions(engine, settings, DEMO_ADMIN_EMAIL)


def lost_password_hint(db: OrmSession) -> str:
    """For the second `make run` and later: the first one showed the demo admin's password once."""
    if user_exists(db, DEMO_ADMIN_EMAIL):
        return (f"Sign in as {DEMO_ADMIN_EMAIL} with the password the first run showed. Lost it? "
                f"Set a new one: .venv/bin/python -m core user reset-password {DEMO_ADMIN_EMAIL}")
    return "Lost a password? Set a new one: .venv/bin/python -m core user reset-password EMAIL"
