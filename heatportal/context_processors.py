from heatportal.pages import AREAS


def navigation(request):
    return {"nav_areas": AREAS}
