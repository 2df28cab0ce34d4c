"""Portal pages of the sessions area: parse with a form, call a selector or service, render."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import aget_object_or_404, get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from heatportal import permissions as access
from heatportal.files import stream_stored_file
from heatportal.pages import AREAS, allowed_only, confirmation
from heatportal.services import ServiceError
from sessions_app import selectors, services
from sessions_app.forms import ConfigForm
from sessions_app.models import NodeOutput

AREA = next(area for area in AREAS if area.key == "sessions")
SESSIONS_PER_PAGE = 50


admin_role_required = allowed_only(
    "v2.configure", message="Only administrators may see and change the platform configuration."
)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    context = {
        "area": AREA,
        "projects": selectors.project_list(with_session_counts=True),
        "is_admin": access.allowed(request.user, "v2.configure"),
    }
    return render(request, "sessions_app/index.html", context)


@login_required
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_object_or_404(selectors.project_list(with_session_counts=True), pk=project_id)
    sessions = Paginator(selectors.session_list(project=project, with_node_counts=True), SESSIONS_PER_PAGE)
    page = sessions.get_page(request.GET.get("page"))
    return render(request, "sessions_app/project.html", {"project": project, "page": page})


@login_required
def session_detail(request: HttpRequest, session_id) -> HttpResponse:
    session = get_object_or_404(selectors.session_list(with_outputs=True), pk=session_id)
    metadata = None if session.metadata is None else json.dumps(session.metadata, indent=2, sort_keys=True)
    context = {
        "session": session,
        "metadata": metadata,
        # Other users' e-mail addresses are for administrators; one's own is shown to oneself.
        "show_contact": access.allowed(request.user, "users.contact"),
    }
    return render(request, "sessions_app/session.html", context)


@login_required
async def output_download(request: HttpRequest, output_id: int) -> StreamingHttpResponse:
    """The stored bytes of a node output, streamed in chunks (never read whole)."""
    output = await aget_object_or_404(NodeOutput, pk=output_id)
    response = StreamingHttpResponse(
        stream_stored_file(output.data_path, settings.HEAT_UPLOAD_CHUNK_BYTES),
        content_type=output.content_type or "application/octet-stream",
    )
    response["Content-Length"] = str(output.size)
    response["Content-Disposition"] = content_disposition_header(
        True, output.filename or f"node-output-{output.pk}"
    )
    return response


@login_required
def templates(request: HttpRequest) -> HttpResponse:
    return render(request, "sessions_app/templates.html", {"graphs": selectors.session_template_graphs()})


# --- Platform configuration -------------------------------------------------------------------


@admin_role_required
def config_list(request: HttpRequest) -> HttpResponse:
    return render(request, "sessions_app/config_list.html", {"configurations": selectors.config_list()})


@require_POST
@admin_role_required
def config_reveal(request: HttpRequest, config_id: int) -> HttpResponse:
    """One private value, shown once: as JSON to the page's script, else the list page with that
    value in clear (a POST, so that it is never cached or left in the history as a link)."""
    config = get_object_or_404(selectors.config_list(), pk=config_id)
    response: HttpResponse
    if request.headers.get("Accept") == "application/json":
        response = JsonResponse({"name": config.name, "value": config.value})
    else:
        context = {"configurations": selectors.config_list(), "revealed_id": config.pk}
        response = render(request, "sessions_app/config_list.html", context)
    add_never_cache_headers(response)
    return response


@admin_role_required
def config_delete(request: HttpRequest, config_id: int) -> HttpResponse:
    """Asks first (a page, without JavaScript); a POST with ``confirm=yes`` deletes."""
    config = get_object_or_404(selectors.config_list(), pk=config_id)
    asking = confirmation(
        request,
        action=f"Delete configuration {config.name}",
        consequence="Clients that read this name will no longer find it. This cannot be undone.",
        cancel_url=reverse("sessions:config"),
    )
    if asking is not None:
        return asking
    services.config_delete(config=config)
    messages.success(request, f"Configuration {config.name} deleted.")
    return redirect("sessions:config")


@admin_role_required
def config_create(request: HttpRequest) -> HttpResponse:
    form = ConfigForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            config = services.config_create(**form.cleaned_data)
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Configuration {config.name} created.")
            return redirect("sessions:config")
    return render(request, "sessions_app/config_form.html", {"form": form, "title": "New configuration"})


@admin_role_required
def config_edit(request: HttpRequest, config_id: int) -> HttpResponse:
    config = get_object_or_404(selectors.config_list(), pk=config_id)
    title = f"Edit {config.name}"
    form = ConfigForm.for_config(config, data=request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            services.config_update(config=config, **form.cleaned_data)
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Configuration {config.name} saved.")
            return redirect("sessions:config")
    return render(request, "sessions_app/config_form.html", {"form": form, "title": title, "config": config})
