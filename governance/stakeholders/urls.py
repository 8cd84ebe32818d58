from django.urls import path

from governance.stakeholders import views

app_name = "stakeholders"

urlpatterns = [
    path("accounts/profile/", views.profile, name="profile"),
]
