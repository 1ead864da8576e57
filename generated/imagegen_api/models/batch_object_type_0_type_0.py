from typing import Literal

BatchObjectType0Type0 = Literal["batch"]

BATCH_OBJECT_TYPE_0_TYPE_0_VALUES: set[BatchObjectType0Type0] = {
    "batch",
}


def check_batch_object_type_0_type_0(value: str) -> BatchObjectType0Type0:
    if value in BATCH_OBJECT_TYPE_0_TYPE_0_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {BATCH_OBJECT_TYPE_0_TYPE_0_VALUES!r}")
