"""The demo's neighbourhood: homes on a street grid, dozens of cameras, posts in every category.

Everything here is invented; homes and cameras are made fast (one password hash for all the
extra residents, who are not demo logins) so `doorstep demo` is up within seconds.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy.orm import Session

from doorstep.accounts import service as accounts
from doorstep.cameras import service as cameras
from doorstep.geo.cells import Coordinates
from doorstep.neighbors import service as neighbors
from doorstep.platform.security import hash_password, new_secret
from doorstep.platform.types import utcnow

HOMES = 320
CAMERAS = 64
#: Every home's account is at this domain, so a later start can tell the homes are there.
HOMES_DOMAIN = "@homes.demo.doorstep.test"
# Streets run every ~110 m (0.001 degrees of latitude) around the demo centre.
STREET = 0.001

POSTS: dict[str, list[str]] = {
    "crime": [
        "A car on Alder St had its window smashed overnight; a laptop bag was taken.",
        "Two bikes were taken from an unlocked garage near the school between 2 and 4 pm.",
        "Catalytic converter cut from a car parked on 12th Ave before dawn; police report filed.",
    ],
    "safety": [
        "The streetlight at the corner of Birch and 14th is out; reported to the city.",
        "Downed branch across the sidewalk on Cedar St after the wind last night, walk around it.",
        "Gas smell near the community garden; the utility is on its way, keep clear for now.",
    ],
    "suspicious_activity": [
        "Someone in a grey hoodie tried car door handles along Elm St around 1 am, then left.",
        "A van without plates parked for three hours with the engine running, then drove off fast.",
    ],
    "unexpected_visitor": [
        "A man in a hi-vis vest said he was checking meters but had no badge. Ask for ID.",
        "Someone left flyers for driveway sealing and asked for cash up front; it's a known scam.",
    ],
    "lost_pet": [
        "Lost: Pepper, a small grey cat with a white chest and green collar, near Maple and 13th.",
        "Our golden retriever Sunny slipped her lead by the park this morning; she's friendly.",
        "Lost tortoise (yes really) named Gus, last seen in our backyard on Alder St.",
    ],
    "found_pet": [
        "Found a black and white terrier with a red collar on Birch St, no tag; he's safe with us.",
        "A ginger cat has been sleeping on our porch for three days, very tame, is it yours?",
    ],
    "neighborly_moment": [
        "Thank you to whoever returned the wallet I dropped outside the bakery, cash and all.",
        "Free tomato seedlings on the bench outside our gate, help yourselves.",
        "The kids' lemonade stand raised $46 for the animal shelter today. Thanks for stopping by!",
    ],
}
COMMENTS = [
    "Thanks for the heads-up.",
    "Saw the same thing yesterday evening.",
    "Sharing with the block group.",
    "Hope it turns out well!",
]


def home_positions(centre: Coordinates, count: int, rng: random.Random) -> list[Coordinates]:
    """Homes on both sides of a grid of streets around ``centre``."""
    homes: list[Coordinates] = []
    blocks = 8
    for index in range(count):
        street = index % (2 * blocks) - blocks
        along = (index // (2 * blocks)) / (count / (2 * blocks)) * 2 - 1
        side = 0.00012 if index % 2 else -0.00012
        lat = centre.lat + street * STREET + side + rng.uniform(-0.00003, 0.00003)
        lon = centre.lon + along * blocks * STREET * 1.4 + rng.uniform(-0.00005, 0.00005)
        homes.append(Coordinates(round(lat, 6), round(lon, 6)))
    return homes


def populate(db: Session, centre: Coordinates, resolution: int, *, seed: int = 7) -> None:
    """Fill an empty demo neighbourhood once; later starts leave it as it is."""
    if accounts.count_users_by_email_suffix(db, HOMES_DOMAIN):
        return
    rng = random.Random(seed)
    # Not a demo login: a random password nobody knows, hashed once for all these homes.
    shared_hash = hash_password(new_secret())
    homes = [
        accounts.NewResident(f"home{index:03d}{HOMES_DOMAIN}", f"Neighbour {index + 1}", home)
        for index, home in enumerate(home_positions(centre, HOMES, rng))
    ]
    residents = accounts.add_residents(
        db, homes, password_hash=shared_hash, cell_resolution=resolution
    )
    placements: list[cameras.Placement] = []
    for user in rng.sample(residents, CAMERAS):
        assert user.home_lat is not None
        assert user.home_lon is not None
        position = Coordinates(user.home_lat, user.home_lon)
        placements.append(cameras.Placement(user.id, "Front door", position, rng.random() < 0.7))
    cameras.add_paired_cameras(db, placements, cell_resolution=resolution)
    now = utcnow()
    for category, texts in POSTS.items():
        for text in texts:
            author = rng.choice(residents)
            assert author.home_cell is not None
            created_at = now - timedelta(hours=rng.uniform(1, 24 * 12))
            helpful_count = rng.randint(0, 9)
            comments = [
                neighbors.PastComment(
                    author_id=rng.choice(residents).id,
                    text=rng.choice(COMMENTS),
                    created_at=created_at + timedelta(minutes=rng.uniform(5, 300)),
                )
                for _ in range(rng.randint(0, 3))
            ]
            neighbors.add_past_post(
                db,
                author.id,
                author.home_cell,
                category=category,
                text=text,
                created_at=created_at,
                contact_opt_in=category in {"lost_pet", "found_pet"},
                helpful_count=helpful_count,
                comments=comments,
            )
