from typing import Literal

ListBatchesResponseObjectType0Type0 = Literal["list"]

LIST_BATCHES_RESPONSE_OBJECT_TYPE_0_TYPE_0_VALUES: set[ListBatchesResponseObjectType0Type0] = {
    "list",
}


def check_list_batches_response_object_type_0_type_0(value: str) -> ListBatchesResponseObjectType0Type0:
    if value in LIST_BATCHES_RESPONSE_OBJECT_TYPE_0_TYPE_0_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {LIST_BATCHES_RESPONSE_OBJECT_TYPE_0_TYPE_0_VALUES!r}"
    )
