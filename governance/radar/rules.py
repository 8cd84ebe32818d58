"""Who may read the radar: every member of a department or a partner (any role, viewers
included) and superusers. Citizens and community organisations' members may not: the themes
link to people's own words, which only those who serve them read.

The texts behind a theme are filtered again, row by row, by the source that owns them
(``TextSource.visible``): reading the radar never shows a text its reader could not open.
"""

from __future__ import annotations

import rules

from governance.stakeholders.models import Organisation
from governance.stakeholders.rules import is_superuser, memberships_of

READER_KINDS = frozenset({Organisation.Kind.DEPARTMENT, Organisation.Kind.PARTNER})


@rules.predicate
def is_department_or_partner_member(user) -> bool:
    return any(seat.kind in READER_KINDS for seat in memberships_of(user).values())


can_view_radar = is_superuser | is_department_or_partner_member

rules.add_perm("radar.view_radar", can_view_radar)
