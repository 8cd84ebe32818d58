"""Signals for the wings: they learn what happens to a case without the core knowing them.

``case_status_changed`` is sent inside the transaction of ``case_transition``, after the case
is saved and its timeline written, so a receiver's writes commit or roll back with the change.
Arguments: ``case`` (the saved case), ``old`` and ``new`` (status values), ``actor`` (a user or
``None``), ``at`` (the moment of the change).

The feedback wing uses it to tell a rater that the rectification of a bad rating is done.
"""

from django.dispatch import Signal

case_status_changed = Signal()
