from django.urls import path

from desk.views import follow, incident, presence, queue, saved

urlpatterns = [
    path("", queue.queue, name="desk-queue"),
    path("bulk/", queue.bulk, name="desk-queue-bulk"),
    path("views/", saved.create, name="desk-view-create"),
    path("views/<int:pk>/", saved.edit, name="desk-view-edit"),
    path("views/<int:pk>/delete/", saved.delete, name="desk-view-delete"),
    path("<int:number>/", incident.detail, name="desk-incident-detail"),
    path("<int:number>/do/<slug:action>/", incident.act, name="desk-incident-action"),
    path("<int:number>/follow/", follow.follow, name="desk-incident-follow"),
    path("<int:number>/priority/", incident.priority_preview, name="desk-incident-priority"),
    path("<int:number>/presence/", presence.presence, name="desk-incident-presence"),
    path(
        "<int:number>/files/<int:attachment_id>/",
        incident.attachment_download,
        name="desk-incident-attachment",
    ),
]
