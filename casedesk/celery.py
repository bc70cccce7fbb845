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
    """The settings make a web request give up fast on a broker that does not answer (one
    short try; the outbox row waits for beat's delivery task). A worker or beat must do the
    opposite: its blocking reads outlast a 0.5-second socket timeout, and with one retry it
    exits while Redis restarts. They take Celery's own patient defaults instead."""
    fast_fail = ("socket_timeout", "socket_connect_timeout", "max_retries")
    options = dict(app.conf.broker_transport_options or {})
    for key in (*fast_fail, "interval_start", "interval_step", "interval_max"):
        options.pop(key, None)
    app.conf.broker_transport_options = options
    app.conf.broker_connection_timeout = 4  # Celery's default
