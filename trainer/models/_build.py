"""Building a model directory beside its destination and renaming it into place."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from trainer._errors import SourceUnavailable


def require_weights(built: Path, dest: Path) -> None:
    """A model directory about to be renamed into place has its weights: under torch.distributed only rank 0's
    `save_pretrained` writes them, and a weightless copy renamed first would be what every rank loads."""
    if not any(built.glob("*.safetensors")):
        raise SourceUnavailable(
            f"the model for {dest} was built without its weights (this process is not the saving rank of a "
            "torch.distributed group): build it on the main process first (training_args.main_process_first)"
        )


def build_in_place(out: Path, write: Callable[[Path], None]) -> Path:
    """`write` fills a fresh directory beside `out`, which is then renamed to `out`: processes started together
    (`accelerate launch`) never read a half-written model; the first rename wins and the others discard their
    identical copy."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    tmp.chmod(0o755)
    try:
        write(tmp)
        require_weights(tmp, out)
        try:
            tmp.rename(out)
        except OSError:  # another process built it first
            if not (out / "config.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
