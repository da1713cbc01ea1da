"""Requests as the API and pages show them: counts as ranges, never who declined (I3)."""

from __future__ import annotations

from doorstep.requests.models import Rfa
from doorstep.requests.rules import RfaCounts, public_counts, reach
from doorstep.requests.rules_policy import offence_label
from doorstep.requests.schemas import CountRangePublic, CountsPublic, ReachPublic, RfaPublic
from doorstep.settings import Settings
from doorstep.transparency.counts import CountRange

#: The k-anonymity threshold when a caller has no settings at hand: the setting's default.
DEFAULT_K: int = int(Settings.model_fields["camera_map_k"].default)


def count_range(shown: CountRange) -> CountRangePublic:
    """A domain range as the API shows it."""
    return CountRangePublic(at_least=shown.at_least, at_most=shown.at_most, label=shown.label)


def counts_public(counts: RfaCounts, k: int = DEFAULT_K) -> CountsPublic:
    """The counts anyone may see: ranges, every count below ``k`` withheld."""
    shown = public_counts(counts, k)
    return CountsPublic(
        asked=count_range(shown.asked),
        shared=count_range(shown.shared),
        clips_shared=count_range(shown.clips),
        k=k,
    )


def _reach(rfa: Rfa) -> ReachPublic:
    reached = reach(rfa.cells)
    return ReachPublic(cells=reached.cells, sq_mi=round(reached.sq_mi, 4))


def rfa_public(rfa: Rfa, counts: RfaCounts, k: int = DEFAULT_K) -> RfaPublic:
    """A request as everyone sees it; pass the configured ``k`` (settings' ``camera_map_k``)."""
    return RfaPublic(
        id=rfa.id,
        agency_id=rfa.agency_id,
        agency_name=rfa.agency.name,
        case_number=rfa.case_number,
        incident_type=rfa.incident_type,
        offence_category=rfa.offence_category,
        offence_label=offence_label(rfa.offence_category),
        description=rfa.description,
        area=rfa.area,
        area_sq_mi=rfa.area_sq_mi,
        reach=_reach(rfa),
        window_start=rfa.window_start,
        window_end=rfa.window_end,
        created_at=rfa.created_at,
        closed_at=rfa.closed_at,
        counts=counts_public(counts, k),
        url=f"/rfa/{rfa.id}",
    )
