"""From a Job to encoded image bytes, with the painter. CPU-bound: call it in the pool (its input
images are decoded here, and their pixels freed when it returns)."""

from __future__ import annotations

from .painter import PaintSpec, edit, encode, paint, vary
from .policy import Job

# The operations the painter knows how to answer; others in the contract get a 501.
PAINTED = frozenset({"generations", "edits", "variations"})


def spec_for(job: Job, index: int) -> PaintSpec:
    """What the painter needs to draw image `index` of `job`."""
    return PaintSpec(
        prompt=job.prompt,
        model=job.model.name,
        width=job.width,
        height=job.height,
        index=index,
        operation=job.operation,
        transparent=job.background == "transparent",
    )


def render(job: Job, index: int, detail: float = 1.0) -> bytes:
    """Image `index` of `job`, encoded as the job asks; `detail` < 1 for stream partials."""
    spec = spec_for(job, index)
    if job.operation == "edits":
        mask = job.mask.decode() if job.mask is not None else None
        image = edit(spec, [item.decode() for item in job.inputs], mask, detail)
    elif job.operation == "variations":
        image = vary(spec, job.inputs[0].decode(), detail)
    else:
        image = paint(spec, detail)
    return encode(image, job.output_format, job.compression)
