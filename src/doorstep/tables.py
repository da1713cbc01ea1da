"""Every table Doorstep has: importing this loads each model module into ``Base.metadata``."""

from doorstep.accounts import models as accounts
from doorstep.agencies import models as agencies
from doorstep.bystanders import models as bystanders
from doorstep.cameras import models as cameras
from doorstep.clips import models as clips
from doorstep.doorbell import models as doorbell
from doorstep.invitations import models as invitations
from doorstep.legal import models as legal
from doorstep.neighbors import models as feed
from doorstep.notify import models as notify
from doorstep.partnerships import models as partnerships
from doorstep.pets import models as pets
from doorstep.platform import keycheck
from doorstep.platform.orm import Base
from doorstep.requests import models as requests
from doorstep.transparency import models as audit

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
    partnerships,
    invitations,
    doorbell,
    notify,
    pets,
    bystanders,
    keycheck,
)
metadata = Base.metadata
