"""Portal pages of the sessions area: parse with a form, call a selector or service, render."""

import json
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import aget_object_or_404, get_object_or_404, redirect, render
from django.utils.http import content_disposition_header

from heatportal.accounts.models import User
from heatportal.files import stream_stored_file
from heatportal.pages import AREAS
from sessions_app import selectors, services
from sessions_app.forms import ConfigForm
from sessions_app.models import NodeOutput

AREA = next(area for area in AREAS if area.key == "sessions")
SESSIONS_PER_PAGE = 50


def _is_admin(user: User) -> bool:
    return user.role == User.Role.ADMIN


def admin_role_required(view):
    """Signed-in users with the Admin role only; others get a 403 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _is_admin(request.user):
            return render(request, "sessions_app/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return login_required(wrapper)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    context = {
        "area": AREA,
        "projects": selectors.projects_with_session_counts(),
        "is_admin": _is_admin(request.user),
    }
    return render(request, "sessions_app/index.html", context)


@login_required
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_object_or_404(selectors.projects_with_session_counts(), pk=project_id)
    sessions = Paginator(selectors.project_sessions(project), SESSIONS_PER_PAGE)
    page = sessions.get_page(request.GET.get("page"))
    return render(request, "sessions_app/project.html", {"project": project, "page": page})


@login_required
def session_detail(request: HttpRequest, session_id) -> HttpResponse:
    session = get_object_or_404(selectors.sessions_with_outputs(), pk=session_id)
    metadata = None if session.metadata is None else json.dumps(session.metadata, indent=2, sort_keys=True)
    return render(request, "sessions_app/session.html", {"session": session, "metadata": metadata})


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
    return render(request, "sessions_app/templates.html", {"graphs": selectors.template_graphs()})


# --- Platform configuration -------------------------------------------------------------------


@admin_role_required
def config_list(request: HttpRequest) -> HttpResponse:
    return render(request, "sessions_app/config_list.html", {"configurations": selectors.configurations()})


@admin_role_required
def config_create(request: HttpRequest) -> HttpResponse:
    form = ConfigForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            config = services.config_create(**form.cleaned_data)
        except services.ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Configuration {config.name} created.")
            return redirect("sessions:config")
    return render(request, "sessions_app/config_form.html", {"form": form, "title": "New configuration"})


@admin_role_required
def config_edit(request: HttpRequest, config_id: int) -> HttpResponse:
    config = get_object_or_404(selectors.configurations(), pk=config_id)
    title = f"Edit {config.name}"
    form = ConfigForm.for_config(config, data=request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            services.config_update(config=config, **form.cleaned_data)
        except services.ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Configuration {config.name} saved.")
            return redirect("sessions:config")
    return render(request, "sessions_app/config_form.html", {"form": form, "title": title})
