from typing import Literal

InputFidelity = Literal["high", "low"]

INPUT_FIDELITY_VALUES: set[InputFidelity] = {
    "high",
    "low",
}


def check_input_fidelity(value: str) -> InputFidelity:
    if value in INPUT_FIDELITY_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {INPUT_FIDELITY_VALUES!r}")
