from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.batch_endpoint import BatchEndpoint, check_batch_endpoint
from ..models.create_batch_request_completion_window_type_0 import (
    CreateBatchRequestCompletionWindowType0,
    check_create_batch_request_completion_window_type_0,
)
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.batch_metadata_type_0 import BatchMetadataType0


T = TypeVar("T", bound="CreateBatchRequest")


@_attrs_define
class CreateBatchRequest:
    """What a batch runs."""

    input_file_id: str
    """ The JSONL file of requests, uploaded with purpose `batch`. """
    endpoint: BatchEndpoint | str
    """ The operation every request of a batch calls (OpenAI's Batch API takes others too). """
    completion_window: CreateBatchRequestCompletionWindowType0 | str
    metadata: BatchMetadataType0 | None | Unset = UNSET
    """ Up to 16 pairs of your own, keys of at most 64 characters, values of at most 512. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.batch_metadata_type_0 import BatchMetadataType0  # noqa: PLC0415

        input_file_id = self.input_file_id

        endpoint: str
        if isinstance(self.endpoint, str):
            endpoint = self.endpoint
        else:
            endpoint = self.endpoint

        completion_window: str
        if isinstance(self.completion_window, str):
            completion_window = self.completion_window
        else:
            completion_window = self.completion_window

        metadata: dict[str, Any] | None | Unset
        if isinstance(self.metadata, Unset):
            metadata = UNSET
        elif isinstance(self.metadata, BatchMetadataType0):
            metadata = self.metadata.to_dict()
        else:
            metadata = self.metadata

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "input_file_id": input_file_id,
                "endpoint": endpoint,
                "completion_window": completion_window,
            }
        )
        if metadata is not UNSET:
            field_dict["metadata"] = metadata

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.batch_metadata_type_0 import BatchMetadataType0  # noqa: PLC0415

        d = dict(src_dict)
        input_file_id = d.pop("input_file_id")

        def _parse_endpoint(data: object) -> BatchEndpoint | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                endpoint_type_0 = check_batch_endpoint(data)

                return endpoint_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BatchEndpoint | str, data)

        endpoint = _parse_endpoint(d.pop("endpoint"))

        def _parse_completion_window(data: object) -> CreateBatchRequestCompletionWindowType0 | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                completion_window_type_0 = check_create_batch_request_completion_window_type_0(data)

                return completion_window_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CreateBatchRequestCompletionWindowType0 | str, data)

        completion_window = _parse_completion_window(d.pop("completion_window"))

        def _parse_metadata(data: object) -> BatchMetadataType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_batch_metadata_type_0 = BatchMetadataType0.from_dict(data)

                return componentsschemas_batch_metadata_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BatchMetadataType0 | None | Unset, data)

        metadata = _parse_metadata(d.pop("metadata", UNSET))

        create_batch_request = cls(
            input_file_id=input_file_id,
            endpoint=endpoint,
            completion_window=completion_window,
            metadata=metadata,
        )

        create_batch_request.additional_properties = d
        return create_batch_request

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
