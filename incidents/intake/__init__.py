"""Alert intake that monitoring tools speak (issue 18): Prometheus Alertmanager's webhook, the
PagerDuty Events API v2, and a generic JSON webhook with a mapping. Every alert goes through the
one dedup/trigger service of the generic intake (incidents/services/alerts.py)."""
