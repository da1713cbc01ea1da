"""Every table Doorstep has: importing this loads each model module into ``Base.metadata``."""

from doorstep.storage import agencies, audit, feed, invitations, legal, models, served_bytes
from doorstep.storage.models import Base

# Area model modules register their tables on import; list each one here.
MODULES = (models, feed, audit, agencies, legal, invitations, served_bytes)
metadata = Base.metadata
