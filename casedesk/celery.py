import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casedesk.settings")

app = Celery("casedesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _wait_for_the_broker(sender=None, **kwargs) -> None:
    """The settings make a web request give up on a broker that does not answer after one
    short try (the outbox row waits for the sweep). A worker or beat must not give up: with
    one retry it exits while Redis restarts. They keep the short socket timeouts (a frozen
    Redis is noticed) but retry connecting for as long as it takes, a few seconds apart."""
    options = dict(app.conf.broker_transport_options or {})
    if "max_retries" in options:
        options.update(max_retries=None, interval_start=0, interval_step=1, interval_max=5)
        app.conf.broker_transport_options = options
