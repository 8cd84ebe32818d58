"""Being written (issue 9)."""

urlpatterns: list = []
