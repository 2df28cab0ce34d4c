from functools import partial

from heatportal.pages import AREAS
from heatportal.permissions import allowed


def navigation(request):
    # A callable, so that the user is looked at only by a page that shows the navigation.
    return {
        "nav_areas": AREAS,
        "nav_changes": partial(allowed, getattr(request, "user", None), "changes.view"),
    }
