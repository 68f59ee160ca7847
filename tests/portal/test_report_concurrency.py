"""A double click sends the same form twice at the same moment: still one incident."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from incidents.models import Incident
from tests.factories import PASSWORD


@pytest.mark.postgres
def test_two_simultaneous_submits_of_one_form_create_one_incident(people, transactional_db):
    data = {
        "title": "Printer jams",
        "category": str(people.network.pk),
        "impact": "low",
        "urgency": "low",
        "form_token": str(uuid.uuid4()),
    }
    start = threading.Barrier(2)
    locations: list[str] = []

    def submit() -> None:
        try:
            client = Client()
            assert client.login(email="rita@acme.test", password=PASSWORD)
            start.wait()
            response = client.post(reverse("portal-report", args=["acme"]), data)
            locations.append(response["Location"])
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Incident.objects.filter(tenant=people.acme).count() == 1
    assert locations == [reverse("portal-incident-reported", args=["acme", 1])] * 2
