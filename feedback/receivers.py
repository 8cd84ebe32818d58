"""The feedback wing listens to the cases core: a resolved rectification case tells its rater."""

from __future__ import annotations

from governance.cases.models import Source, Status
from governance.cases.signals import case_status_changed


def _on_case_status(sender, case, old, new, actor, at, **kwargs) -> None:
    if new == Status.RESOLVED and case.source == Source.FEEDBACK:
        from feedback.services import rectification_done

        rectification_done(case=case, at=at)


def connect() -> None:
    case_status_changed.connect(_on_case_status, dispatch_uid="feedback.rectification_done")
