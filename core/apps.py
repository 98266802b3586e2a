from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Spindle core"

    def ready(self) -> None:
        from core.roles import roles_sync

        # After every migrate, so that a new permission reaches its roles everywhere.
        post_migrate.connect(lambda **kwargs: roles_sync(), sender=self, weak=False)
