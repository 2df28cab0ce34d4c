from django.http import JsonResponse

BODY = {"id": "00000000-0000-0000-0000-000000000000", "tag": "floor", "status": "created", "progress": 0.0}


def sync_view(request):
    return JsonResponse(BODY)


async def async_view(request):
    return JsonResponse(BODY)
