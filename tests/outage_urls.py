"""A URL configuration with a page and an API view that publish a Celery message, to show that a
broker outage inside a view is answered 503 (tests/test_outage.py). Only tests use it."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from servicedesk import urls as desk_urls
from servicedesk.celery import app


def _publish() -> None:
    app.send_task("tests.outage.nothing")  # no worker needed: only the publish is tried


def publish_page(request: HttpRequest) -> HttpResponse:
    _publish()
    return HttpResponse("sent")


class PublishView(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def post(self, request: Request) -> Response:
        _publish()
        return Response({"sent": True})


urlpatterns = [
    path("outage/publish/", publish_page),
    path("api/v1/outage/publish/", PublishView.as_view()),
    *desk_urls.urlpatterns,
]
