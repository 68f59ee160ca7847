"""Start a Celery worker for a test (`python -m tests.escalation.celery_worker_main worker ...`).

The desk's own settings configure it from the environment the test gives (database, mail,
notification timings); only the broker comes from SD_TEST_BROKER (JSON: url and transport
options), so that each test's worker has a queue of its own on the shared Redis or in its own
folders.
"""

import json
import os
import sys

from servicedesk.celery import app


def main() -> None:
    broker = json.loads(os.environ["SD_TEST_BROKER"])
    app.conf.broker_url = broker["url"]
    app.conf.broker_transport_options = broker["options"]
    app.conf.task_always_eager = False
    app.worker_main(sys.argv[1:])


if __name__ == "__main__":
    main()
