from django.urls import path

from governance.radar import views

app_name = "radar"

urlpatterns = [
    path("radar/", views.overview, name="overview"),
    path("radar/themes/<int:pk>/", views.theme, name="theme"),
]
