from django.conf import settings
from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """``?limit=&offset=`` with a hard maximum, so no client can ask for everything at once.

    Endpoints whose documented response is a bare list set ``pagination_class = None`` and
    bound their queryset themselves.
    """

    default_limit = settings.REST_FRAMEWORK["PAGE_SIZE"]
    max_limit = settings.API_MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        if getattr(queryset, "ordered", True) is False:
            raise AssertionError(f"{view.__class__.__name__} paginates an unordered queryset")
        return super().paginate_queryset(queryset, request, view)
