from crowd_app.models import CrowdAccount, CrowdApiKey


def crowd_counts() -> dict[str, int]:
    return {
        "accounts": CrowdAccount.objects.count(),
        "active API keys": CrowdApiKey.objects.filter(CrowdApiKey.active_q()).count(),
    }
