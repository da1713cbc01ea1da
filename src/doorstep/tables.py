"""Every table Doorstep has: importing this loads each model module into ``Base.metadata``."""

from doorstep.accounts import models as accounts
from doorstep.cameras import models as cameras
from doorstep.clips import models as clips
from doorstep.clips import served_store as served_bytes
from doorstep.invitations import models as invitations
from doorstep.legal import models as legal
from doorstep.neighbors import models as feed
from doorstep.partnerships import models as partnerships
from doorstep.platform.orm import Base
from doorstep.requests import store as agencies
from doorstep.transparency import models as audit

# Area model modules register their tables on import; list each one here.
MODULES = (
    accounts,
    cameras,
    clips,
    feed,
    audit,
    agencies,
    legal,
    partnerships,
    invitations,
    served_bytes,
)
metadata = Base.metadata
