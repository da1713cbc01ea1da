"""The demo's neighbourhood: homes on a street grid, dozens of cameras, posts in every category.

Everything here is invented; homes and cameras are made fast (one password hash for all the
extra residents, who are not demo logins) so `doorstep demo` is up within seconds.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.accounts.models import User
from doorstep.accounts.roles import Role
from doorstep.cameras.models import Camera
from doorstep.geo.cells import Coordinates, public_cell
from doorstep.neighbors.models import Comment, Post
from doorstep.platform.security import hash_password, new_secret
from doorstep.platform.types import new_id, utcnow

HOMES = 320
CAMERAS = 64
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
    already = db.scalar(
        select(func.count()).select_from(User).where(User.email.like("%@homes.demo.doorstep.test"))
    )
    if already:
        return
    rng = random.Random(seed)
    # Not a demo login: a random password nobody knows, hashed once for all these homes.
    shared_hash = hash_password(new_secret())
    residents: list[User] = []
    for index, home in enumerate(home_positions(centre, HOMES, rng)):
        user = User(
            id=new_id(),
            email=f"home{index:03d}@homes.demo.doorstep.test",
            password_hash=shared_hash,
            display_name=f"Neighbour {index + 1}",
            role=Role.RESIDENT.value,
            home_lat=home.lat,
            home_lon=home.lon,
            home_cell=public_cell(home, resolution),
        )
        residents.append(user)
    db.add_all(residents)
    db.flush()
    for user in rng.sample(residents, CAMERAS):
        assert user.home_lat is not None
        assert user.home_lon is not None
        position = Coordinates(user.home_lat, user.home_lon)
        db.add(
            Camera(
                owner_id=user.id,
                name="Front door",
                lat=position.lat,
                lon=position.lon,
                cell=public_cell(position, resolution),
                requests_opt_in=rng.random() < 0.7,
                motion_zones=[],
                privacy_zones=[],
                last_seen_at=utcnow(),
                paired_at=utcnow(),
            )
        )
    now = utcnow()
    for category, texts in POSTS.items():
        for text in texts:
            author = rng.choice(residents)
            assert author.home_cell is not None
            post = Post(
                id=new_id(),
                author_id=author.id,
                category=category,
                text=text,
                cell=author.home_cell,
                created_at=now - timedelta(hours=rng.uniform(1, 24 * 12)),
                contact_opt_in=category in {"lost_pet", "found_pet"},
                helpful_count=rng.randint(0, 9),
                comment_count=0,
            )
            db.add(post)
            for _ in range(rng.randint(0, 3)):
                db.add(
                    Comment(
                        post_id=post.id,
                        author_id=rng.choice(residents).id,
                        text=rng.choice(COMMENTS),
                        created_at=post.created_at + timedelta(minutes=rng.uniform(5, 300)),
                    )
                )
                post.comment_count += 1
    db.flush()
