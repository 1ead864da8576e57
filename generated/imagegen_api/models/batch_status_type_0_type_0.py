from typing import Literal

BatchStatusType0Type0 = Literal[
    "cancelled", "cancelling", "completed", "expired", "failed", "finalizing", "in_progress", "validating"
]

BATCH_STATUS_TYPE_0_TYPE_0_VALUES: set[BatchStatusType0Type0] = {
    "cancelled",
    "cancelling",
    "completed",
    "expired",
    "failed",
    "finalizing",
    "in_progress",
    "validating",
}


def check_batch_status_type_0_type_0(value: str) -> BatchStatusType0Type0:
    if value in BATCH_STATUS_TYPE_0_TYPE_0_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {BATCH_STATUS_TYPE_0_TYPE_0_VALUES!r}")
