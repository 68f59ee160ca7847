from django.urls import path

from dashboards import views

urlpatterns = [
    path("", views.home, name="dashboards-home"),
    path("export.csv", views.export_csv, name="dashboards-export"),
    path("problems/", views.problems_panel, name="dashboards-problems"),
]
