from django.urls import path

from governance.cases import views

app_name = "cases"

# A reference looks like CH-2026-000123 (the prefix is a setting, so letters are allowed).
REFERENCE = "<str:reference>"

urlpatterns = [
    path("cases/", views.public_list, name="list"),
    path("cases/report/", views.report, name="report"),
    path("cases/mine/", views.mine, name="mine"),
    path("cases/queue/", views.queue, name="queue"),
    path(f"cases/{REFERENCE}/", views.detail, name="detail"),
    path(f"cases/{REFERENCE}/submitted/", views.submitted, name="submitted"),
    path(f"cases/{REFERENCE}/attachments/<int:pk>/", views.attachment, name="attachment"),
    path(
        f"cases/{REFERENCE}/cohandlers/<int:pk>/<slug:action>/",
        views.cohandler_act,
        name="cohandler-act",
    ),
    path(f"cases/{REFERENCE}/<slug:action>/", views.act, name="act"),
]
