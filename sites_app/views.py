from django.contrib.auth.decorators import login_required

from heatportal.pages import area_landing
from sites_app.selectors import site_counts


@login_required
def index(request):
    return area_landing(request, "sites", counts=site_counts())
