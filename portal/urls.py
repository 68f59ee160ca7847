from django.urls import path

from portal import views

incident = "incidents/<int:number>/"

urlpatterns = [
    path("", views.my_incidents, name="portal-home"),
    path("report/", views.report, name="portal-report"),
    path("report/similar/", views.similar, name="portal-similar"),
    path(incident, views.incident_detail, name="portal-incident-detail"),
    path(f"{incident}reported/", views.incident_reported, name="portal-incident-reported"),
    path(f"{incident}timeline/", views.incident_timeline, name="portal-incident-timeline"),
    path(f"{incident}join/", views.incident_join, name="portal-incident-join"),
    path(f"{incident}comment/", views.incident_comment, name="portal-incident-comment"),
    path(f"{incident}fixed/", views.incident_fixed, name="portal-incident-fixed"),
    path(f"{incident}broken/", views.incident_broken, name="portal-incident-broken"),
    path(f"{incident}emails/", views.incident_emails, name="portal-incident-emails"),
    path(
        f"{incident}files/<int:attachment_id>/",
        views.attachment_download,
        name="portal-attachment",
    ),
    path(f"{incident}answer/<str:token>/", views.answer_link, name="portal-answer"),
    path(f"{incident}unsubscribe/<str:token>/", views.unsubscribe_link, name="portal-unsubscribe"),
    path(f"{incident}follow/<str:token>/", views.follow_link, name="portal-follow"),
    path(
        f"{incident}follow/<str:token>/files/<int:attachment_id>/",
        views.follow_link_file,
        name="portal-follow-file",
    ),
]
