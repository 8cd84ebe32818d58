"""The partners wing's pages under ``/partners/``: each page module lists its own routes.

- ``views``: the resource catalogue, a resource's week calendar, bookings, the portal dashboard
  and resource management;
- ``portal``: pledges, agreements, volunteer shifts, training, members and invitations;
- ``imports``: CSV/XLSX import and export of resources and volunteer shifts.
"""

from partners import imports, portal, views

app_name = "partners"

urlpatterns = [*views.urlpatterns, *portal.urlpatterns, *imports.urlpatterns]
