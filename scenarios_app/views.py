"""Portal pages of the scenario runner: parse with a form, call a selector or service, render."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from heatportal import permissions as access
from heatportal.accounts.views import SignedInRequest
from heatportal.energy import energy_sites
from heatportal.pages import AREAS, confirmation
from scenarios_app import algorithms, etl, selectors, services, site_link
from scenarios_app.api.outputs import algorithm_output
from scenarios_app.forms import ApplyForm, CopySessionForm, FromSiteForm, ScenarioForm, SessionForm
from scenarios_app.kpis import REGISTRY as KPIS
from scenarios_app.models import RunnerSession, Scenario

AREA = next(area for area in AREAS if area.key == "scenarios")
ETL_RESULT = "scenarios_etl_result"  # the last upload's result, in the user's session until shown
PREVIEW_ROWS = 50
API_PREFIX = "/" + settings.SCENARIOS_API_PREFIX.strip("/")


def _session(session_id: object) -> RunnerSession:
    session = selectors.session_get(sid=str(session_id))
    if session is None:
        raise Http404("No such session")
    return session


def _scenario(session: RunnerSession, scenario_id: object) -> Scenario:
    scenario = selectors.scenario_get(session=session, scenario_id=str(scenario_id))
    if scenario is None:
        raise Http404("No such scenario")
    return scenario


def _page_message(error: services.ServiceError) -> str:
    """A service's message in the page's words: where the API's text names an endpoint, the
    service gives the page's wording too (``page_message``)."""
    return getattr(error, "page_message", None) or error.message


def _status_url(session: RunnerSession, scenario: Scenario) -> str:
    return f"{API_PREFIX}/sessions/{session.pk}/scenarios/{scenario.pk}/status"


@login_required
def index(request: SignedInRequest) -> HttpResponse:
    # No write on GET: ``main`` exists from the migration on (apps.py) and replaces the last
    # session deleted (services.session_delete).
    form = SessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_create(
                display_name=form.cleaned_data["display_name"], owner=request.user
            )
        except services.ServiceError as error:
            form.add_error("display_name", error.message)
        else:
            messages.success(request, f"Session '{session.display_name}' created.")
            return redirect("scenarios:session", session_id=session.pk)
    context = {"area": AREA, "sessions": selectors.session_list(with_counts=True), "form": form}
    return render(request, "scenarios_app/index.html", context)


@login_required
def session_detail(request: SignedInRequest, session_id) -> HttpResponse:
    session = _session(session_id)
    if request.method == "POST":  # an ETL upload; its result is shown once, after the redirect
        dataset_name = request.POST.get("dataset_name", "").strip()
        try:
            if not dataset_name:
                raise services.Invalid("Give the dataset a name.")
            result = etl.etl_run(
                session=session,
                dataset_name=dataset_name,
                uploads=request.FILES.getlist("files"),
                owner=request.user,
            )
        except services.ServiceError as error:
            messages.error(request, _page_message(error))
        else:
            request.session[ETL_RESULT] = result.to_dict()
            if result.success:
                messages.success(request, f"Dataset '{dataset_name}' stored.")
        return redirect("scenarios:session", session_id=session.pk)
    etl_result = request.session.pop(ETL_RESULT, None)
    scenarios = list(selectors.scenario_list(session=session).defer("result", "kpi_values"))
    rows = [
        {
            "scenario": scenario,
            "status_url": _status_url(session, scenario),
            "may_change": access.allowed(request.user, "runner.change", scenario),
        }
        for scenario in scenarios
    ]
    context = {
        "area": AREA,
        "session": session,
        "may_change": access.allowed(request.user, "runner.change", session),
        "may_delete": access.allowed(request.user, "runner.delete", session),
        "datasets": selectors.dataset_list(session=session).defer("tables"),
        "rows": rows,
        "etl_result": etl_result,
        "copy_form": CopySessionForm(),
        "rename_form": SessionForm(initial={"display_name": session.display_name}),
    }
    return render(request, "scenarios_app/session.html", context)


@login_required
@require_POST
def session_action(request: SignedInRequest, session_id, action: str) -> HttpResponse:
    session = _session(session_id)
    # Refused before anything else: a 403, not a message (heatportal.permissions).
    needs = {"rename": "runner.change", "delete": "runner.delete"}.get(action, "runner.create")
    access.require(request.user, needs, session)
    try:
        if action == "copy":
            form = CopySessionForm(request.POST)
            if not form.is_valid():
                raise services.Invalid("Give the copy a name.")
            copy = services.session_copy(
                session=session, new_display_name=form.cleaned_data["new_display_name"], owner=request.user
            )
            messages.success(request, f"Session copied to '{copy.display_name}'.")
            return redirect("scenarios:session", session_id=copy.pk)
        if action == "rename":
            rename_form = SessionForm(request.POST)
            if not rename_form.is_valid():
                raise services.Invalid("Give the session a name.")
            services.session_rename(session=session, display_name=rename_form.cleaned_data["display_name"])
            messages.success(request, "Session renamed.")
        elif action == "delete":
            asked = confirmation(
                request,
                action=f"Delete session '{session.display_name}'",
                consequence=f"Its {session.datasets.count()} dataset(s) and {session.scenarios.count()} "
                "scenario(s), with their results, are deleted too. This cannot be undone.",
                cancel_url=reverse("scenarios:session", kwargs={"session_id": session.pk}),
            )
            if asked:
                return asked
            services.session_delete(session=session)
            messages.success(request, f"Session '{session.display_name}' deleted, with what it held.")
            return redirect("scenarios:index")
        else:
            raise Http404("No such action")
    except services.ServiceError as error:
        messages.error(request, _page_message(error))
    return redirect("scenarios:session", session_id=session.pk)


@login_required
def dataset_detail(request: SignedInRequest, session_id, key: str) -> HttpResponse:
    session = _session(session_id)
    dataset = selectors.dataset_get(session=session, key=key)
    if dataset is None:
        raise Http404("No such dataset")
    if request.method == "POST":
        access.require(request.user, "runner.delete", dataset)
        asked = confirmation(
            request,
            action=f"Delete dataset '{key}'",
            consequence="Its tables are deleted. This cannot be undone.",
            cancel_url=reverse("scenarios:dataset", kwargs={"session_id": session.pk, "key": key}),
        )
        if asked:
            return asked
        try:
            services.dataset_delete(dataset=dataset)
        except services.ServiceError as error:
            messages.error(request, _page_message(error))
        else:
            messages.success(request, f"Dataset '{key}' deleted.")
            return redirect("scenarios:session", session_id=session.pk)
    tables = [
        {
            "name": name,
            "columns": table.get("columns", []),
            "rows": table.get("rows", [])[:PREVIEW_ROWS],
            "count": len(table.get("rows", [])),
        }
        for name, table in dataset.tables.items()
    ]
    context = {
        "area": AREA,
        "session": session,
        "dataset": dataset,
        "may_delete": access.allowed(request.user, "runner.delete", dataset),
        "tables": tables,
        "preview": PREVIEW_ROWS,
    }
    return render(request, "scenarios_app/dataset.html", context)


@login_required
def scenario_create(request: SignedInRequest, session_id) -> HttpResponse:
    """The scenario form. Choosing another algorithm posts the form with ``switch`` (its select
    does so on change; without JavaScript, the Choose button): the page comes back, by a GET,
    with that algorithm's parameters and what the user typed kept."""
    session = _session(session_id)
    names = [name for name in session.algorithms if name in algorithms.REGISTRY]
    data = request.POST if request.method == "POST" else request.GET
    algo_name = data.get("algo_name") or data.get("algo") or (names[0] if names else "")
    if algo_name not in names:
        raise Http404("No such algorithm")
    algorithm = algorithms.REGISTRY[algo_name]
    if request.method == "POST" and (
        "switch" in request.POST or request.POST.get("shown_algo", algo_name) != algo_name
    ):
        kept = ScenarioForm.typed_values(request.POST, algorithm.parameters)
        return redirect(f"{request.path}?{urlencode({'algo': algo_name, **kept})}")
    form = ScenarioForm(
        request.POST or None,
        initial=ScenarioForm.typed_values(request.GET, algorithm.parameters),
        dataset_keys=selectors.dataset_keys(session=session),
        parameters=algorithm.parameters,
        rules=algorithm.rules,
    )
    if request.method == "POST" and form.is_valid():
        try:
            scenario = services.scenario_create(
                session=session,
                tag=form.cleaned_data["tag"],
                dataset_key=form.cleaned_data["dataset_key"],
                algo_name=algo_name,
                algo_params=form.algo_params(),
                owner=request.user,
            )
        except services.ServiceError as error:
            form.add_error(None, _page_message(error))
        else:
            if "run" in request.POST:
                services.scenario_run(scenario=scenario)
            messages.success(request, f"Scenario '{scenario.tag}' created.")
            return redirect("scenarios:session", session_id=session.pk)
    context = {
        "area": AREA,
        "session": session,
        "form": form,
        "algorithm": algorithm,
        "algorithm_names": names,
    }
    return render(request, "scenarios_app/scenario_form.html", context)


@login_required
def scenario_detail(request: SignedInRequest, session_id, scenario_id) -> HttpResponse:
    session = _session(session_id)
    scenario = _scenario(session, scenario_id)
    complete = scenario.status == Scenario.Status.COMPLETE
    kpis = [
        {
            "name": name,
            "label": KPIS[name].label,
            "unit": KPIS[name].unit,
            "value": (scenario.kpi_values or {}).get(name) if complete else None,
        }
        for name in session.kpis
        if name in KPIS
    ]
    chart = None
    if complete and isinstance(scenario.result, dict) and scenario.result.get("series"):
        chart = {"timestamps": scenario.result.get("timestamps", []), "series": scenario.result["series"]}
    context = {
        "area": AREA,
        "session": session,
        "scenario": scenario,
        "may_change": access.allowed(request.user, "runner.change", scenario),
        "may_apply": complete and access.allowed(request.user, "runner.apply", scenario),
        "kpis": kpis,
        "chart": chart,
        "parameters": algorithm_output(scenario.algo_name, scenario.algo_params)["parameters"],
        "status_url": _status_url(session, scenario),
        "summary": json.dumps(scenario.result.get("optimisation"), indent=2)
        if complete and isinstance(scenario.result, dict) and scenario.result.get("optimisation")
        else None,
    }
    return render(request, "scenarios_app/scenario.html", context)


@login_required
@require_POST
def scenario_action(request: SignedInRequest, session_id, scenario_id, action: str) -> HttpResponse:
    session = _session(session_id)
    scenario = _scenario(session, scenario_id)
    if action not in ("run", "reset", "delete"):
        raise Http404("No such action")
    access.require(request.user, "runner.delete" if action == "delete" else "runner.change", scenario)
    scenario_url = reverse(
        "scenarios:scenario", kwargs={"session_id": session.pk, "scenario_id": scenario.pk}
    )
    if action != "run":
        asked = confirmation(
            request,
            action=f"{action.capitalize()} scenario '{scenario.tag}'",
            consequence=(
                "The scenario and its result are deleted. This cannot be undone."
                if action == "delete"
                else "Its result, KPI values and error are cleared and it goes back to created."
            ),
            cancel_url=scenario_url,
        )
        if asked:
            return asked
    try:
        if action == "run":
            services.scenario_run(scenario=scenario)
            messages.success(request, f"Scenario '{scenario.tag}' queued.")
        elif action == "reset":
            services.scenario_reset(scenario=scenario)
            messages.success(request, f"Scenario '{scenario.tag}' reset: its result was cleared.")
        else:
            services.scenario_delete(scenario=scenario)
            messages.success(request, f"Scenario '{scenario.tag}' deleted.")
            return redirect("scenarios:session", session_id=session.pk)
    except services.ServiceError as error:
        messages.error(request, _page_message(error))
    next_url = request.POST.get("next") or scenario_url
    if not next_url.startswith("/scenarios/"):
        next_url = reverse("scenarios:session", kwargs={"session_id": session.pk})
    return redirect(next_url)


# --- Issue 14: from site to scenario, from scenario to schedule -------------------------------


@login_required
def dataset_from_site(request: SignedInRequest) -> HttpResponse:
    """A dataset from a site's measured history (``?site=<id>`` preselects the site); then the
    scenario form, with PeakShavingLP, the dataset and the BESS's rating filled in."""
    now = site_link.step_floor(timezone.now())
    initial = {
        "site": request.GET.get("site", ""),
        "session": request.GET.get("session", ""),
        "new_key": f"Site history {now:%Y-%m-%d}",
        "start": now - timedelta(days=3),  # 288 steps: its dispatch always fits one command
        "end": now,
    }
    form = FromSiteForm(
        request.POST or None,
        initial=initial,
        sessions=selectors.session_list(),
        sites=energy_sites().site_list(),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        session = _session(data["session"])
        try:
            dataset = services.dataset_create_from_site(
                session=session,
                new_key=data["new_key"],
                site_id=uuid.UUID(data["site"]),
                start=data["start"],
                end=data["end"],
                owner=request.user,
            )
        except services.ServiceError as error:
            form.add_error(None, _page_message(error))
        else:
            messages.success(request, f"Dataset '{dataset.key}' created from the site's history.")
            return redirect(_scenario_form_url(session, dataset.key, dataset.parameters))
    return render(request, "scenarios_app/from_site.html", {"area": AREA, "form": form})


def _scenario_form_url(session: RunnerSession, key: str, parameters: dict) -> str:
    defaults = parameters.get("parameter_defaults") or {}
    query = {"algo": "PeakShavingLP", "dataset_key": key}
    query.update({f"p_{name}": value for name, value in defaults.items()})
    return f"{reverse('scenarios:scenario-create', kwargs={'session_id': session.pk})}?{urlencode(query)}"


@login_required
def scenario_apply(request: SignedInRequest, session_id, scenario_id) -> HttpResponse:
    """Apply to site: choose the site and start, see the entries and the sites' validation
    (a POST without ``confirm``), then confirm (the same POST with ``confirm=yes``)."""
    session = _session(session_id)
    scenario = _scenario(session, scenario_id)
    access.require(request.user, "runner.apply", scenario)
    scenario_url = reverse(
        "scenarios:scenario", kwargs={"session_id": session.pk, "scenario_id": scenario.pk}
    )
    start = site_link.step_floor(timezone.now()) + site_link.STEP
    form = ApplyForm(request.POST or None, initial={"start_at": start}, sites=energy_sites().site_list())
    preview = None
    if request.method == "POST" and form.is_valid():
        site_id, start_at = uuid.UUID(form.cleaned_data["site"]), form.cleaned_data["start_at"]
        try:
            if request.POST.get("confirm") == "yes":
                batch = services.scenario_apply_to_site(
                    scenario=scenario, site_id=site_id, start_at=start_at, user=request.user
                )
                messages.success(
                    request,
                    f"Scenario '{scenario.tag}' applied: {batch.accepted} BESS entries stored "
                    f"(batch {batch.batch_id}).",
                )
                return redirect("sites:site", site_id=site_id)
            preview = selectors.scenario_apply_preview(scenario=scenario, site_id=site_id, start_at=start_at)
        except services.ServiceError as error:
            form.add_error(None, _page_message(error))
    context = {
        "area": AREA,
        "session": session,
        "scenario": scenario,
        "form": form,
        "preview": preview,
        "scenario_url": scenario_url,
        "confirm_fields": _confirm_fields(form) if preview is not None and preview.check.ok else None,
    }
    return render(request, "scenarios_app/apply.html", context)


def _confirm_fields(form: ApplyForm) -> list[tuple[str, str]]:
    start_at = form.cleaned_data["start_at"].astimezone(UTC)
    return [("site", form.cleaned_data["site"]), ("start_at", start_at.strftime("%Y-%m-%dT%H:%M:%S"))]
