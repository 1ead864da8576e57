from typing import Literal

CreateBatchRequestCompletionWindowType0 = Literal["24h"]

CREATE_BATCH_REQUEST_COMPLETION_WINDOW_TYPE_0_VALUES: set[CreateBatchRequestCompletionWindowType0] = {
    "24h",
}


def check_create_batch_request_completion_window_type_0(value: str) -> CreateBatchRequestCompletionWindowType0:
    if value in CREATE_BATCH_REQUEST_COMPLETION_WINDOW_TYPE_0_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {CREATE_BATCH_REQUEST_COMPLETION_WINDOW_TYPE_0_VALUES!r}"
    )
