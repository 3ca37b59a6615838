"""Demo rollout state for the embedded mode: the province's published end-of-2023 position.

2,385 of 2,446 desa adopted (97.5 %), the 61 others in Pesisir Barat, Tanggamus
and Lampung Utara blocked by no internet signal, every kelurahan adopted; with
go-live dates through 2022-2023 so that the monthly snapshots of 2023, computed
by the real recompute over these rows, climb to that state. Deterministic (seeded).
"""

import datetime
import random

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from rollout.models import (
    Blocker,
    DemoDataset,
    PillarStatus,
    ProgrammeTarget,
    Signal,
    VillageStatus,
)
from rollout.services import ReportInput, adoption_recompute, report_submit, statuses_import
from villages.models import DESA_KINDS, Village

# The province's report for the end of 2023: desa not live, all blocked by no signal, per regency.
NOT_LIVE_DESA = {"18.13": 25, "18.06": 20, "18.03": 16}
FIRST_GO_LIVE = datetime.date(2022, 7, 1)
LAST_GO_LIVE = datetime.date(2023, 12, 20)
SNAPSHOT_DATES = [datetime.date(2022, 12, 31)] + [
    (datetime.date(2023, month + 1, 1) if month < 12 else datetime.date(2024, 1, 1)) - datetime.timedelta(days=1)
    for month in range(1, 13)
]


def _go_live_date(rng: random.Random) -> datetime.date:
    # Skewed towards 2023: most villages joined in the programme's main year.
    span = (LAST_GO_LIVE - FIRST_GO_LIVE).days
    return FIRST_GO_LIVE + datetime.timedelta(days=int(span * rng.random() ** 0.6))


@transaction.atomic
def demo_rollout_seed(*, staff: User, officers: dict[str, User]) -> bool:  # officers by regency code
    """Seed the rollout demo unless a status exists already; return whether it seeded."""
    if VillageStatus.objects.exists():
        return False
    rng = random.Random(2023)  # noqa: S311 - demo data, not security
    villages = list(Village.objects.filter(is_active=True, regency__province__code="18").order_by("code"))
    not_live: set[str] = set()
    for regency, count in NOT_LIVE_DESA.items():
        desa = [v.code for v in villages if v.code[:5] == regency and v.kind in DESA_KINDS]
        not_live.update(rng.sample(desa, min(count, len(desa))))

    rows = []
    for village in villages:
        live = village.code not in not_live
        day = _go_live_date(rng) if live else datetime.date(2023, 12, 15)
        item = ReportInput(
            village=village,
            pillar1=PillarStatus.LIVE if live else PillarStatus.IN_PROGRESS,
            pillar2=rng.choices([PillarStatus.LIVE, PillarStatus.IN_PROGRESS, PillarStatus.NOT_STARTED], [45, 35, 20])[
                0
            ]
            if live
            else PillarStatus.NOT_STARTED,
            pillar3=rng.choices([PillarStatus.LIVE, PillarStatus.IN_PROGRESS, PillarStatus.NOT_STARTED], [35, 35, 30])[
                0
            ]
            if live
            else PillarStatus.NOT_STARTED,
            signal=rng.choice([Signal.G4, Signal.G4, Signal.G3, Signal.BROADBAND]) if live else Signal.NONE,
            signal_sufficient=live,
            blocker="" if live else Blocker.NO_SIGNAL,
            blocker_note="" if live else "Belum ada menara BTS yang menjangkau desa (data demo).",
            note="Data awal program (demo).",
        )
        rows.append((item, timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 0)))))
    statuses_import(actor=staff, items=rows)

    ProgrammeTarget.objects.get_or_create(year=2024, defaults={"adopted_pct": 100})
    for day in SNAPSHOT_DATES:
        adoption_recompute(on_date=day)

    # Officers' fresh reports that wait for the province: signal arrived in some blocked desa.
    for regency, officer in officers.items():
        for code in sorted(c for c in not_live if c.startswith(regency))[:3]:
            report_submit(
                actor=officer,
                item=ReportInput(
                    village=Village.objects.get(code=code),
                    pillar1=PillarStatus.IN_PROGRESS,
                    pillar2=PillarStatus.NOT_STARTED,
                    pillar3=PillarStatus.NOT_STARTED,
                    signal=Signal.SATELLITE,
                    signal_sufficient=True,
                    note="Internet satelit terpasang, operator sedang dilatih (demo).",
                ),
            )
    DemoDataset.objects.get_or_create(pk=1)
    return True
