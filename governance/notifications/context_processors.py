def unread(request):
    """The unread count for the page header: one indexed COUNT, only for signed-in people."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count() -> int:
        from governance.notifications.queries import unread_count

        return unread_count(user)

    # Lazy, so pages that do not show the header (JSON, admin) never run the query.
    from django.utils.functional import SimpleLazyObject

    return {"notifications_unread": SimpleLazyObject(count)}
