from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"

    def ready(self) -> None:
        from jobs import actions  # noqa: F401  (the table binds each operation action's service to its entry)
