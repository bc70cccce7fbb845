from django.db import models


class WorkerHeartbeat(models.Model):
    """When a periodic task last ran on a worker; /healthz reports it."""

    name = models.CharField(max_length=80, primary_key=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.seen_at:%Y-%m-%d %H:%M:%S}"
