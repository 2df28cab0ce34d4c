from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from heatportal import views
from heatportal.accounts import views as account_views

handler400 = "heatportal.views.handler400"
handler404 = "heatportal.views.handler404"
handler500 = "heatportal.views.handler500"

urlpatterns = [
    # APIs first: the resolver tries patterns in order, and API clients call many times a
    # second. At the contract's mount points (longest prefixes first).
    path("api/v2/", include("sessions_app.api.urls")),
    path("auth/", include("heatportal.accounts.api.urls")),
    path("api/v1/public/", include(("sites_app.api.urls", "sites_public"), namespace="sites-v1")),
    path("api/v0/public/", include(("sites_app.api.urls", "sites_public"), namespace="sites-v0")),
    path("api/v1/gateway/", include("sites_app.api.gateway_urls")),
    path(settings.SCENARIOS_API_PREFIX.strip("/") + "/", include("scenarios_app.api.urls")),
    path("v1/", include("crowd_app.api.urls")),
    # Portal pages
    path("", views.dashboard, name="dashboard"),
    path("health/", views.health, name="health"),
    path("changes/", views.changes, name="changes"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("login/", account_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("sessions/", include("sessions_app.urls")),
    path("sites/", include("sites_app.urls")),
    path("scenarios/", include("scenarios_app.urls")),
    path("requests/", include("crowd_app.urls")),
    path("account/", include("heatportal.accounts.urls")),
    path("admin/", admin.site.urls),
    # OpenAPI
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
