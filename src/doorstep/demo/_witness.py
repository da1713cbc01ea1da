"""The demo's witness: one ``doorstep witness`` on loopback, so its checkpoints carry a cosignature.

It runs in a thread of the demo's process, keeps its key and memory in the demo's folder, and is
handed to the server processes through the environment like every other demo setting.
"""

from __future__ import annotations

import os
import threading
from http.server import ThreadingHTTPServer

from doorstep.settings import Settings
from doorstep.transparency.service_checkpoints import log_key
from doorstep.witness.server import Witness, make_server
from doorstep.witness.state import WitnessState

#: The demo witness's key name.
WITNESS_NAME = "witness.demo.doorstep.invalid"


def start_witness(settings: Settings) -> ThreadingHTTPServer:
    """Start the witness of the demo's log and configure the server to require its cosignature."""
    state = WitnessState(settings.data_dir / "witness", WITNESS_NAME)
    witness = Witness(state, [log_key(settings)])
    server = make_server(witness, settings.host, 0)
    threading.Thread(target=server.serve_forever, name="witness", daemon=True).start()
    url = f"http://{settings.host}:{server.server_address[1]}"
    os.environ["DOORSTEP_WITNESSES"] = f"{witness.key.encode()} {url}"
    os.environ["DOORSTEP_WITNESS_QUORUM"] = "1"
    return server
