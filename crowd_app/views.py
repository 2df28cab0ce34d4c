from django.contrib.auth.decorators import login_required

from crowd_app.selectors import crowd_counts
from heatportal.pages import area_landing


@login_required
def index(request):
    return area_landing(request, "requests", counts=crowd_counts())
