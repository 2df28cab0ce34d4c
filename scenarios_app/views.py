from django.contrib.auth.decorators import login_required

from heatportal.pages import area_landing


@login_required
def index(request):
    return area_landing(request, "scenarios", counts={})
