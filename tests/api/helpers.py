"""Assertions the API tests share."""


def problem(response, status: int) -> dict:
    """The answer is an RFC 9457 problem of this status; returns its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body
