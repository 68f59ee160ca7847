"""The agent desk: queues (queue.py), the incident page (incident.py) and its actions
(actions.py)."""
