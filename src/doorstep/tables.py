"""Every table Doorstep has: importing this loads each model module into ``Base.metadata``."""

from doorstep.accounts import models as accounts
from doorstep.agencies import models as agencies
from doorstep.cameras import models as cameras
from doorstep.clips import models as clips
from doorstep.clips import served_store as served_bytes
from doorstep.invitations import store as invitations
from doorstep.legal import store as legal
from doorstep.neighbors import store as feed
from doorstep.platform.orm import Base
from doorstep.requests import models as requests
from doorstep.transparency import audit_store as audit

# Area model modules register their tables on import; list each one here.
MODULES = (
    accounts,
    cameras,
    clips,
    feed,
    audit,
    agencies,
    requests,
    legal,
    invitations,
    served_bytes,
)
metadata = Base.metadata
