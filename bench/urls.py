from django.urls import path

from bench import views

urlpatterns = [
    path("bench/bare", views.bare),
    path("bench/values", views.values),
    path("bench/station-values", views.station_values),
    path("bench/insert", views.insert),
]
