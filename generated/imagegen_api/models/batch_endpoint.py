from typing import Literal

BatchEndpoint = Literal["/v1/images/edits", "/v1/images/generations"]

BATCH_ENDPOINT_VALUES: set[BatchEndpoint] = {
    "/v1/images/edits",
    "/v1/images/generations",
}


def check_batch_endpoint(value: str) -> BatchEndpoint:
    if value in BATCH_ENDPOINT_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {BATCH_ENDPOINT_VALUES!r}")
