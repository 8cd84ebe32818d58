from django.urls import path

from feedback import views

app_name = "feedback"

urlpatterns = [
    # Short, because it sits in a QR code on a counter slip.
    path("r/<str:token>/", views.rate, name="rate"),
    path("feedback/new/", views.new, name="new"),
    path("feedback/thanks/", views.thanks, name="thanks"),
    path("feedback/mine/", views.mine, name="mine"),
    path("feedback/inbox/", views.inbox, name="inbox"),
    path("feedback/inbox.csv", views.inbox_csv, name="inbox-csv"),
    path("feedback/rerate/<str:token>/", views.rerate, name="rerate"),
    path("feedback/visits/<int:visit_id>/card/", views.counter_card, name="counter-card"),
    path("feedback/<int:pk>/", views.detail, name="detail"),
    path("feedback/<int:pk>/<slug:action>/", views.act, name="act"),
]
