"""The problems API, under /api/v1/."""

from django.urls import path

from problems import api
from problems.serializers import TRANSITION_SERIALIZERS

N = "<str:number>"

urlpatterns = [
    path("problems/", api.ProblemListView.as_view(), name="api-problem-list"),
    path(f"problems/{N}/", api.ProblemDetailView.as_view(), name="api-problem-detail"),
    *[
        path(
            f"problems/{N}/{action.replace('_', '-')}/",
            api.transition_view(action).as_view(),
            name=f"api-problem-{action}",
        )
        for action in TRANSITION_SERIALIZERS
    ],
    path(
        f"problems/{N}/incidents/",
        api.ProblemIncidentsView.as_view(),
        name="api-problem-incidents",
    ),
    path(
        f"problems/{N}/incidents/<str:incident>/",
        api.ProblemIncidentDetailView.as_view(),
        name="api-problem-incident",
    ),
]
