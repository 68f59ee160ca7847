from django.urls import path

from tenancy.account import views

urlpatterns = [
    path("", views.account, name="account"),
    path("sessions/<int:pk>/end/", views.session_end, name="account-session-end"),
    path("sessions/end-others/", views.sessions_end_others, name="account-sessions-end-others"),
]
