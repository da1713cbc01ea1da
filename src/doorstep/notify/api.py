"""The push routes: the server's VAPID key, and the account's devices that get pushes.

Reading the devices is open to a token with ``account:read``; changing them only to a browser
session (a device is a browser's own subscription, added from that browser).
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from doorstep.accounts.auth import AccountReader, CurrentUser
from doorstep.notify import service
from doorstep.notify.schemas import PushDeviceCreate, PushDevicePublic, PushDeviceUpdate, PushKey
from doorstep.platform.http import problems
from doorstep.platform.http.deps import DbDep, StateDep

router = APIRouter(prefix="/api/v1/push", tags=["push"])


@router.get("/key", summary="The server's Web Push (VAPID) public key")
def key(state: StateDep) -> PushKey:
    """The `applicationServerKey` to pass to `PushManager.subscribe` (public, no sign-in)."""
    return PushKey(public_key=service.vapid_public_key(state.settings))


@router.post(
    "/devices",
    status_code=status.HTTP_201_CREATED,
    summary="Get pushes on this browser",
    responses={
        200: {"description": "The browser was subscribed already: keys updated"},
        **problems.responses(401, 403, 409, 422),
    },
)
def add_device(
    body: PushDeviceCreate, user: CurrentUser, db: DbDep, state: StateDep, response: Response
) -> PushDevicePublic:
    """Send `PushSubscription.toJSON()` (and a name) from the browser to be pushed to.

    Only `https://` endpoints of public push services are accepted (422 otherwise, and for keys
    that are not a P-256 point and a 16-byte secret); past the account's cap on devices, 409.
    """
    device, created = service.subscribe(db, state.settings, user, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return device


@router.get(
    "/devices", summary="The account's push devices", responses=problems.responses(401, 403)
)
def list_devices(principal: AccountReader, db: DbDep) -> list[PushDevicePublic]:
    """Every device the account gets pushes on: name, push service and how the last push went."""
    return service.list_devices(db, principal.user)


@router.patch(
    "/devices/{device_id}",
    summary="Rename a push device",
    responses=problems.responses(401, 403, 404, 422),
)
def rename_device(
    device_id: str, body: PushDeviceUpdate, user: CurrentUser, db: DbDep
) -> PushDevicePublic:
    """Give a device a name its owner recognises."""
    return service.rename_device(db, user, device_id, body)


@router.delete(
    "/devices/{device_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop pushes to a device",
    responses=problems.responses(401, 403, 404),
)
def remove_device(device_id: str, user: CurrentUser, db: DbDep) -> Response:
    """Forget the device; nothing is pushed to it again."""
    service.remove_device(db, user, device_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/devices/{device_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    summary="Send a test push to a device",
    responses=problems.responses(401, 403, 404, 429),
)
def test_device(device_id: str, user: CurrentUser, db: DbDep, state: StateDep) -> Response:
    """Push a test notification to the device; how it went shows in the device list after.

    One at a time: while a test push to the device is still on its way, 429.
    """
    service.send_test(db, state.db, state.settings, user, device_id)
    return Response(status_code=status.HTTP_202_ACCEPTED)
