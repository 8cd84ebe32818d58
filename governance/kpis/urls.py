from django.urls import path

from governance.kpis import views

app_name = "kpis"

urlpatterns = [
    path("kpis/", views.dashboard, name="dashboard"),
    path("kpis/mine/", views.mine, name="mine"),
    path("kpis/stations/<slug:slug>/", views.station_scorecard, name="station"),
    path("kpis/org/<slug:slug>/", views.organisation_kpis, name="organisation"),
    path("kpis/org/<slug:slug>/<slug:code>/target/", views.target_edit, name="target-edit"),
    path("kpis/org/<slug:slug>/<slug:code>/figure/", views.figure_report, name="figure-report"),
    path(
        "kpis/org/<slug:slug>/figures/<int:pk>/review/",
        views.figure_review,
        name="figure-review",
    ),
    path("kpis/<slug:code>.csv", views.indicator_csv, name="indicator-csv"),
    path("kpis/<slug:code>.json", views.indicator_json, name="indicator-json"),
    path("kpis/<slug:code>/", views.indicator_detail, name="indicator"),
]
