"""Who may see and keep Open311 apps and attributes in the admin.

- Apps and their keys are the platform's: superusers issue, rotate and revoke them; the members
  of the app's organisation (any role) may look at it (never at the key, which nobody sees
  after it was shown once).
- A service's attributes are kept like the service itself (``stations.change_service``: the
  acting staff of its department) and read by those who may read the service.

These are predicates, not registered permissions: the cases app's roles × permissions table
lists what ``governance.cases.rules`` registers.
"""

from __future__ import annotations

import rules

from governance.stakeholders.rules import is_member_of, is_superuser


@rules.predicate
def is_client_organisation_member(user, client=None) -> bool:
    if client is None:
        return is_member_of(user)
    return is_member_of(user, client.organisation_id)


can_view_client = is_superuser | is_client_organisation_member
can_keep_clients = is_superuser


def can_view_attribute(user, attribute=None) -> bool:
    if attribute is None:
        return user.has_perm("stations.view_service")
    return user.has_perm("stations.view_service", attribute.service)


def can_keep_attribute(user, attribute=None) -> bool:
    if attribute is None:
        return user.has_perm("stations.change_service")
    return user.has_perm("stations.change_service", attribute.service)
