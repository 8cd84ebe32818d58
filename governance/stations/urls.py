from django.urls import path

from governance.stations import views

app_name = "stations"

urlpatterns = [
    path("", views.home, name="home"),
    path("stations/<slug:slug>/", views.station_detail, name="station"),
    path("services/<str:service_code>/", views.service_detail, name="service"),
]
