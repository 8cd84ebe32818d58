"""The proposals app listens to the cases core: a task case of an implementation moves its
progress (``services.on_case_status_changed``)."""

from __future__ import annotations


def case_moved(sender, case, old, new, actor, at, **kwargs) -> None:
    from governance.cases.models import Source

    if case.source == Source.PROPOSAL:
        from governance.proposals.services import on_case_status_changed

        on_case_status_changed(case)
