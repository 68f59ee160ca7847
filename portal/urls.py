from django.urls import path

from portal import views

urlpatterns = [
    path("", views.my_incidents, name="portal-home"),
    path("report/", views.report, name="portal-report"),
    path("incidents/<int:number>/", views.incident_detail, name="portal-incident-detail"),
]
