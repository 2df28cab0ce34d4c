from typing import Any

from django import forms
from django.contrib import admin

from heatportal.services import ServiceError
from sessions_app import services
from sessions_app.configuration import config_validate
from sessions_app.models import (
    DataSource,
    NodeInstance,
    NodeOutput,
    NodeTemplate,
    PlatformConfiguration,
    Project,
    ScenarioInstance,
    Session,
    SessionTemplate,
)


class NodeTemplateInline(admin.TabularInline):
    model = NodeTemplate
    fields = ("key", "type", "label", "configuration", "position", "inputs")
    extra = 1

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # Edges join nodes of the same template only. On the add page the template has no nodes
        # yet: save it first, then connect them.
        if db_field.name == "inputs":
            template_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = NodeTemplate.objects.filter(session_template_id=template_id)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(SessionTemplate)
class SessionTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "created_at")
    search_fields = ("name",)
    inlines = [NodeTemplateInline]


@admin.register(NodeTemplate)
class NodeTemplateAdmin(admin.ModelAdmin):
    list_display = ("label", "key", "type", "session_template", "position")
    list_filter = ("session_template",)
    list_select_related = ("session_template",)


@admin.register(DataSource)
class DataSourceAdmin(admin.ModelAdmin):
    list_display = ("name", "description")
    search_fields = ("name",)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("title", "hex_id", "owner", "default_session_template", "created_at")
    list_select_related = ("owner", "default_session_template")
    readonly_fields = ("hex_id", "created_at", "updated_at")
    search_fields = ("title", "hex_id")


class NodeInstanceInline(admin.TabularInline):
    model = NodeInstance
    fields = ("name", "type", "configuration", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    """Sessions are created through the API (services.session_create instantiates their nodes)."""

    list_display = ("name", "project", "session_template", "simulation_name", "is_shared", "created_at")
    list_filter = ("is_shared",)
    list_select_related = ("project", "session_template")
    search_fields = ("name", "simulation_name", "email")
    readonly_fields = ("id", "project", "session_template", "user", "created_at", "updated_at")
    inlines = [NodeInstanceInline]

    def has_add_permission(self, request):
        return False


@admin.register(NodeInstance)
class NodeInstanceAdmin(admin.ModelAdmin):
    list_display = ("name", "type", "session", "created_at")
    list_select_related = ("session",)
    readonly_fields = ("session", "node_template", "created_at")

    def has_add_permission(self, request):
        return False


@admin.register(NodeOutput)
class NodeOutputAdmin(admin.ModelAdmin):
    """Outputs are uploads; the row describes a stored file and is never edited by hand."""

    list_display = ("output_identifier", "node_instance", "data_source", "size", "content_type", "created_at")
    list_select_related = ("node_instance", "data_source")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ScenarioInstance)
class ScenarioInstanceAdmin(admin.ModelAdmin):
    list_display = ("scenario_name", "session", "simulation_id", "start", "end", "created_at")
    list_select_related = ("session",)


class PlatformConfigurationForm(forms.ModelForm):
    """Checks an entry with the services' one rule (``configuration.config_validate``: name, type
    and value), so that a refused entry is a form error rather than a failed save."""

    class Meta:
        model = PlatformConfiguration
        fields = ("name", "value_type", "value", "description")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        name, value_type = cleaned.get("name"), cleaned.get("value_type")
        if name is not None and value_type is not None:
            try:
                config_validate(name=name, value_type=value_type, value=cleaned.get("value", ""))
            except ServiceError as error:
                self.add_error(None, error.message)
        return cleaned


@admin.register(PlatformConfiguration)
class PlatformConfigurationAdmin(admin.ModelAdmin):
    """Writes and deletes go through the services, like the portal pages and the API."""

    form = PlatformConfigurationForm
    list_display = ("name", "value_type", "shown_value", "updated_at")
    list_filter = ("value_type",)
    search_fields = ("name",)

    @admin.display(description="value")
    def shown_value(self, obj: PlatformConfiguration) -> str:
        return "••••••" if obj.is_private else obj.value

    def save_model(self, request, obj, form, change):
        fields = {key: form.cleaned_data[key] for key in ("name", "value_type", "value", "description")}
        if change:
            services.config_update(config=obj, **fields)
        else:
            created = services.config_create(**fields)
            obj.pk, obj.value = created.pk, created.value

    def delete_model(self, request, obj):
        services.config_delete(config=obj)

    def delete_queryset(self, request, queryset):
        for config in queryset:
            services.config_delete(config=config)
