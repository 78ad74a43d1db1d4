from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports and dashboards"

    @property
    def role_permissions(self) -> dict[str, list[str]]:
        from accounts import roles

        readers = [
            "reports.view_reportrun",
            "reports.download_report",
            "reports.generate_report",
            "reports.view_metrics",
            "reports.view_improvement",
        ]
        return {
            roles.MANAGER: readers,
            roles.ADMINISTRATOR: [
                *readers,
                "reports.add_improvement",
                "reports.change_improvement",
                "reports.delete_improvement",
            ],
        }

    def ready(self) -> None:
        from saypro.context_processors import NavEntry, nav_register

        from . import sections, sources

        sources.register()
        sections.register()
        nav_register(NavEntry("Improvement log", "dashboard:improvements", "reports.view_improvement"))
