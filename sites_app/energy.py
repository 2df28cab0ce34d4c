"""The energy sites' side of the bridge to the scenario runner (``heatportal.energy``): what the
runner may read of a site and how its dispatch becomes a schedule batch, through this app's
selectors, rules and services. Registered by ``SitesAppConfig.ready``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from heatportal.energy import AppliedBatch, BessEntry, PowerSample, ScheduleCheck, SiteInfo
from heatportal.services import ServiceError
from sites_app import selectors, services
from sites_app.api.inputs import ScheduleBatchIn
from sites_app.api.outputs import format_time
from sites_app.models import Asset, AssetType, ScheduleBatch, ScheduleType, Site
from sites_app.schedules import schedule_commands_check


def _site_info(site: Site, assets: list[Asset]) -> SiteInfo:
    bess = next((asset for asset in assets if asset.type == AssetType.BESS), None)
    power = None
    if bess is not None:
        # The runner's battery is symmetric: the power it may both charge and discharge at.
        both_ways = min(bess.rated_upper_kw, -bess.rated_lower_kw)
        power = both_ways if both_ways > 0 else max(bess.rated_upper_kw, -bess.rated_lower_kw)
    return SiteInfo(
        id=site.pk,
        name=site.name,
        group=site.access_group.name,
        assets=frozenset(asset.type for asset in assets),
        bess_power_kw=power if power else None,
        bess_capacity_kwh=bess.energy_capacity_kwh if bess is not None else None,
    )


def _commands(entries: Sequence[BessEntry]) -> list[dict[str, Any]]:
    """One BESS ``activePowerkW`` command, in the public API's wire format."""
    return [
        {
            "asset": AssetType.BESS.value,
            "type": ScheduleType.ACTIVE_POWER.value,
            "entries": [
                {
                    "startAt": format_time(entry.start_at),
                    "endAt": format_time(entry.end_at),
                    "value": entry.value,
                }
                for entry in entries
            ],
        }
    ]


def _site(site_id: uuid.UUID) -> Site:
    site = Site.objects.select_related("access_group").filter(pk=site_id).first()
    if site is None:
        raise ServiceError(f"Site '{site_id}' not found.", status=404)
    return site


class SitesEnergy:
    """:class:`heatportal.energy.EnergySites` over this app's tables."""

    def site_list(self) -> list[SiteInfo]:
        sites = Site.objects.select_related("access_group").order_by("access_group__name", "name", "id")
        assets: dict[uuid.UUID, list[Asset]] = {}
        for asset in Asset.objects.all():
            assets.setdefault(asset.site_id, []).append(asset)
        return [_site_info(site, assets.get(site.pk, [])) for site in sites]

    def site_get(self, *, site_id: uuid.UUID) -> SiteInfo | None:
        site = Site.objects.select_related("access_group").filter(pk=site_id).first()
        return None if site is None else _site_info(site, selectors.asset_list(site=site))

    def power_series(self, *, site_id: uuid.UUID, start: datetime, end: datetime) -> Iterator[PowerSample]:
        for point in selectors.telemetry_points(site_id=site_id, start=start, end=end, resolution="15m"):
            assets = point["assets"]
            yield PowerSample(
                t=point["t"],
                load_kw=assets.get(AssetType.LOAD, {}).get("activePowerkW"),
                pv_kw=assets.get(AssetType.SOLAR, {}).get("activePowerkW"),
            )

    def bess_schedule_check(self, *, site_id: uuid.UUID, entries: Sequence[BessEntry]) -> ScheduleCheck:
        site = _site(site_id)
        try:
            batch = ScheduleBatchIn.parse({"schedules": _commands(entries)})
            schedule_commands_check(
                batch, assets={asset.type: asset for asset in selectors.asset_list(site=site)}
            )
        except ServiceError as refusal:
            return ScheduleCheck(ok=False, message=refusal.message, details=refusal.details)
        return ScheduleCheck(ok=True)

    def bess_schedule_apply(
        self, *, site_id: uuid.UUID, entries: Sequence[BessEntry], scenario_id: uuid.UUID, sent_by: str
    ) -> AppliedBatch:
        batch = services.schedule_batch_apply(
            site=_site(site_id),
            commands=_commands(entries),
            sent_by=sent_by,
            source=ScheduleBatch.Source.SCENARIO,
            scenario_id=scenario_id,
        )
        return AppliedBatch(batch_id=batch.pk, accepted=batch.accepted)
