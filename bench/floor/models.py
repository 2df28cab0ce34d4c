from django.db import models


class RunnerSession(models.Model):
    """HEAT's runner sessions table, read by the floor's ``/query`` (not managed here)."""

    id = models.UUIDField(primary_key=True)
    display_name = models.CharField(max_length=200)

    class Meta:
        managed = False
        db_table = "scenarios_app_runnersession"

    def __str__(self) -> str:
        return self.display_name
