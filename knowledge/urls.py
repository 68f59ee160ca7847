"""The knowledge pages, under /t/<slug>/knowledge/."""

from django.urls import path

from knowledge import views

article = "<int:pk>/"
incident = "incidents/<int:number>/"
problem = "problems/<int:number>/"

urlpatterns = [
    path("", views.article_list, name="knowledge-article-list"),
    path("new/", views.article_new, name="knowledge-article-new"),
    path(article, views.article_detail, name="knowledge-article"),
    path(f"{article}edit/", views.article_edit, name="knowledge-article-edit"),
    path(f"{article}history/", views.article_history, name="knowledge-article-history"),
    path(
        f"{article}publish/",
        views.article_transition,
        {"to": "publish"},
        name="knowledge-article-publish",
    ),
    path(
        f"{article}retire/",
        views.article_transition,
        {"to": "retire"},
        name="knowledge-article-retire",
    ),
    path(f"{article}vote/", views.article_vote, name="knowledge-article-vote"),
    path(f"{article}solved/", views.article_solved, name="knowledge-article-solved"),
    path("dashboard/", views.dashboard_panel, name="knowledge-dashboard"),
    path(f"{incident}articles/", views.incident_panel, name="knowledge-incident-panel"),
    path(f"{incident}send/{article}", views.incident_send, name="knowledge-incident-send"),
    path(f"{problem}articles/", views.problem_panel, name="knowledge-problem-panel"),
]
