from django.contrib import admin, messages

from scenarios_app import services
from scenarios_app.models import Dataset, RunnerSession, Scenario


@admin.register(RunnerSession)
class RunnerSessionAdmin(admin.ModelAdmin):
    list_display = ("display_name", "id", "created_at")
    search_fields = ("display_name",)
    readonly_fields = ("id", "created_at")


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("key", "session", "schema", "updated_at")
    list_filter = ("schema",)
    list_select_related = ("session",)
    search_fields = ("key", "session__display_name")
    # The tables can be large: shown, not edited here (use the API or the ETL upload).
    readonly_fields = ("tables", "created_at", "updated_at")

    def get_queryset(self, request):
        return super().get_queryset(request).defer("tables")


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    list_display = ("tag", "session", "algo_name", "status", "progress", "attempts", "created_at")
    list_filter = ("status", "algo_name")
    list_select_related = ("session", "dataset")
    search_fields = ("tag", "session__display_name")
    readonly_fields = (
        "id", "status", "progress", "result", "kpi_values", "error", "run_token", "attempts", "worker",
        "created_at", "queued_at", "started_at", "heartbeat_at", "finished_at",
    )  # fmt: skip
    actions = ("reset", "run")

    def get_queryset(self, request):
        return super().get_queryset(request).defer("result", "dataset__tables")

    @admin.action(description="Reset to created (complete or failed scenarios)")
    def reset(self, request, queryset):
        for scenario in queryset:
            try:
                services.scenario_reset(scenario=scenario)
            except services.ServiceError as error:
                self.message_user(request, error.message, messages.WARNING)

    @admin.action(description="Run (created scenarios)")
    def run(self, request, queryset):
        for scenario in queryset:
            try:
                services.scenario_run(scenario=scenario)
            except services.ServiceError as error:
                self.message_user(request, error.message, messages.WARNING)
