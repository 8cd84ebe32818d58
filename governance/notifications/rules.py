"""Who may do what with notifications.

A notification is its recipient's alone: only they read it or mark it read (the inbox and the
API list nothing else; see ``queries.inbox_of``). Deliveries, digests and preferences are
operational records: superusers only, in the admin.
"""

from __future__ import annotations

import rules

from governance.stakeholders.rules import is_superuser


@rules.predicate
def is_recipient(user, notification=None) -> bool:
    if notification is None:
        return bool(getattr(user, "is_authenticated", False))
    return notification.recipient_id == getattr(user, "pk", None)


rules.add_perm("notifications", is_superuser)
rules.add_perm("notifications.view_notification", is_superuser | is_recipient)
rules.add_perm("notifications.change_notification", is_recipient)
rules.add_perm("notifications.view_delivery", is_superuser)
rules.add_perm("notifications.resend_delivery", is_superuser)
rules.add_perm("notifications.view_digest", is_superuser)
rules.add_perm("notifications.view_preference", is_superuser)
