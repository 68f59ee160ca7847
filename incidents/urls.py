from django.urls import path

from incidents import views

urlpatterns = [
    path("", views.queue, name="desk-queue"),
]
