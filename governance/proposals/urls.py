from django.urls import path

from governance.proposals import views

app_name = "proposals"

urlpatterns = [
    path("proposals/", views.proposal_list, name="list"),
    path("proposals/new/", views.proposal_new, name="new"),
    path("proposals/to-answer/", views.to_answer, name="to-answer"),
    path("proposals/flagged/", views.flagged, name="flagged"),
    path("proposals/<int:pk>/", views.detail, name="detail"),
    path("proposals/<int:pk>/edit/", views.edit, name="edit"),
    path("proposals/<int:pk>/attachments/<int:attachment>/", views.attachment, name="attachment"),
    path("proposals/<int:pk>/answer/", views.answer, name="answer"),
    path("proposals/<int:pk>/implementation/", views.implementation, name="implementation"),
    path("proposals/<int:pk>/<slug:action>/", views.act, name="act"),
]
