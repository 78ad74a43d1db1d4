from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports and dashboards"
    # Audit actions in words (saypro.audit.labels).
    audit_labels = {
        "report.request": "requested the report",
        "report.recover": "restarted the stalled report",
        "improvement.create": "logged the improvement",
        "improvement.update": "updated the improvement",
        "improvement.delete": "deleted the improvement",
    }

    @property
    def role_permissions(self) -> dict[str, list[str]]:
        from accounts import roles

        readers = [
            "reports.view_reportrun",
            "reports.download_report",
            "reports.generate_report",
            "reports.view_metrics",
            "reports.view_improvement",
            "figures.view_target",
            "reports.log_topic_improvement",
        ]
        return {
            roles.MANAGER: readers,
            roles.ADMINISTRATOR: [
                *readers,
                "reports.add_improvement",
                "reports.change_improvement",
                "reports.delete_improvement",
                "figures.add_target",
            ],
        }

    def ready(self) -> None:
        from saypro.context_processors import NavEntry, nav_register

        from . import activity_figures, figures, sections, sources

        sources.register()
        activity_figures.register()
        figures.register()
        sections.register()
        nav_register(NavEntry("Improvement log", "dashboard:improvements", "reports.view_improvement"))
        nav_register(NavEntry("Targets", "dashboard:targets", "figures.view_target"))
        nav_register(NavEntry("Staffing", "dashboard:staffing", "sla.view_compliance"))

        from saypro.outbox.followups import followup_register

        from . import selectors, tasks

        # A generating run whose worker died is runs_recover's (it watches the heartbeat); a queued run whose
        # task was lost before any worker took it has no heartbeat at all and is found here.
        followup_register(
            "reports.queued",
            pending=selectors.report_runs_queued_overdue,
            dispatch=lambda item: tasks.report_generate.delay(int(item)),
            description="report runs queued that no worker started",
        )
        followup_register(
            "reports.undelivered",
            pending=selectors.report_runs_undelivered,
            dispatch=lambda item: tasks.report_deliver.delay(int(item)),
            description="finished scheduled reports not yet e-mailed to their subscribers",
        )
        followup_register(
            "reports.failure_unnotified",
            pending=selectors.report_runs_failure_unnotified,
            dispatch=lambda item: tasks.report_failure_notify.delay(int(item)),
            description="failed report runs whose administrators were not yet told",
        )
