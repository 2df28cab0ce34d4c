from django.http import JsonResponse

from bench.floor.models import RunnerSession

BODY = {"id": "00000000-0000-0000-0000-000000000000", "tag": "floor", "status": "created", "progress": 0.0}


def sync_view(request):
    return JsonResponse(BODY)


async def async_view(request):
    return JsonResponse(BODY)


def query_view(request):
    """One row by a unique column through the ORM, the least an endpoint that reads does."""
    session = RunnerSession.objects.get(display_name="main")
    return JsonResponse({"id": str(session.pk), "display_name": session.display_name})
