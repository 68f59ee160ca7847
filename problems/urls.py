"""The problems pages, under /t/<slug>/problems/."""

from django.urls import path

from problems import views, views_candidates

urlpatterns = [
    path("", views.problems, name="problems-problem-list"),
    path("new/", views.new, name="problems-problem-new"),
    path("candidates/", views_candidates.candidates, name="problems-candidate-list"),
    path("candidates/create/", views_candidates.create, name="problems-candidate-create"),
    path("<int:number>/", views.detail, name="problems-problem-detail"),
    path("<int:number>/do/<slug:action>/", views.act, name="problems-problem-action"),
    path("<int:number>/link/", views.link, name="problems-problem-link"),
    path("<int:number>/unlink/<int:incident>/", views.unlink, name="problems-problem-unlink"),
    path("incident/<int:number>/link/", views.incident_link, name="problems-incident-link"),
    path("incident/<int:number>/unlink/", views.incident_unlink, name="problems-incident-unlink"),
    path(
        "incident/<int:number>/apply/<int:problem>/",
        views.incident_apply,
        name="problems-incident-apply",
    ),
]
