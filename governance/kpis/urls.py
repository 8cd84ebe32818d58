from django.urls import path

from governance.kpis import views

app_name = "kpis"

urlpatterns = [
    path("kpis/<slug:code>.csv", views.indicator_csv, name="indicator-csv"),
    path("kpis/<slug:code>.json", views.indicator_json, name="indicator-json"),
]
