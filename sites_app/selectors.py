from sites_app.models import AccessGroup, Site, SiteApiKey


def site_counts() -> dict[str, int]:
    return {
        "access groups": AccessGroup.objects.count(),
        "sites": Site.objects.count(),
        "active API keys": SiteApiKey.objects.filter(SiteApiKey.active_q()).count(),
    }
