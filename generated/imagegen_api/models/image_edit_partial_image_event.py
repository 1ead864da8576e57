from __future__ import annotations

from collections.abc import Mapping
from typing import (
    Any,
    Literal,
    TypeVar,
    cast,
)

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.output_format import OutputFormat, check_output_format
from ..models.streamed_background import StreamedBackground, check_streamed_background
from ..models.streamed_quality import StreamedQuality, check_streamed_quality
from ..types import UNSET, Unset

T = TypeVar("T", bound="ImageEditPartialImageEvent")


@_attrs_define
class ImageEditPartialImageEvent:
    """A partial image of an edit, sent while the final image is being made."""

    type_: Literal["image_edit.partial_image"] | Unset = UNSET
    b64_json: None | str | Unset = UNSET
    """ The partial image, base64-encoded. """
    created_at: int | None | Unset = UNSET
    """ When the event was made, in seconds since the Unix epoch. """
    size: None | str | Unset = UNSET
    quality: None | str | StreamedQuality | Unset = UNSET
    """ The requested quality. """
    background: None | str | StreamedBackground | Unset = UNSET
    """ The requested background. """
    output_format: None | OutputFormat | str | Unset = UNSET
    """ The file format of GPT image model output (default `png`). """
    partial_image_index: int | None | Unset = UNSET
    """ Which partial image this is, counting from 0. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        b64_json: None | str | Unset
        if isinstance(self.b64_json, Unset):
            b64_json = UNSET
        else:
            b64_json = self.b64_json

        created_at: int | None | Unset
        if isinstance(self.created_at, Unset):
            created_at = UNSET
        else:
            created_at = self.created_at

        size: None | str | Unset
        if isinstance(self.size, Unset):
            size = UNSET
        else:
            size = self.size

        quality: None | str | Unset
        if isinstance(self.quality, Unset):
            quality = UNSET
        elif isinstance(self.quality, str):
            quality = self.quality
        else:
            quality = self.quality

        background: None | str | Unset
        if isinstance(self.background, Unset):
            background = UNSET
        elif isinstance(self.background, str):
            background = self.background
        else:
            background = self.background

        output_format: None | str | Unset
        if isinstance(self.output_format, Unset):
            output_format = UNSET
        elif isinstance(self.output_format, str):
            output_format = self.output_format
        else:
            output_format = self.output_format

        partial_image_index: int | None | Unset
        if isinstance(self.partial_image_index, Unset):
            partial_image_index = UNSET
        else:
            partial_image_index = self.partial_image_index

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if type_ is not UNSET:
            field_dict["type"] = type_
        if b64_json is not UNSET:
            field_dict["b64_json"] = b64_json
        if created_at is not UNSET:
            field_dict["created_at"] = created_at
        if size is not UNSET:
            field_dict["size"] = size
        if quality is not UNSET:
            field_dict["quality"] = quality
        if background is not UNSET:
            field_dict["background"] = background
        if output_format is not UNSET:
            field_dict["output_format"] = output_format
        if partial_image_index is not UNSET:
            field_dict["partial_image_index"] = partial_image_index

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        type_ = cast(Literal["image_edit.partial_image"] | Unset, d.pop("type", UNSET))
        if type_ != "image_edit.partial_image" and not isinstance(type_, Unset):
            raise ValueError(f"type must match const 'image_edit.partial_image', got '{type_}'")

        def _parse_b64_json(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        b64_json = _parse_b64_json(d.pop("b64_json", UNSET))

        def _parse_created_at(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        created_at = _parse_created_at(d.pop("created_at", UNSET))

        def _parse_size(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        size = _parse_size(d.pop("size", UNSET))

        def _parse_quality(data: object) -> None | str | StreamedQuality | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                quality_type_0_type_0 = check_streamed_quality(data)

                return quality_type_0_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | str | StreamedQuality | Unset, data)

        quality = _parse_quality(d.pop("quality", UNSET))

        def _parse_background(data: object) -> None | str | StreamedBackground | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                background_type_0_type_0 = check_streamed_background(data)

                return background_type_0_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | str | StreamedBackground | Unset, data)

        background = _parse_background(d.pop("background", UNSET))

        def _parse_output_format(data: object) -> None | OutputFormat | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                output_format_type_0_type_0 = check_output_format(data)

                return output_format_type_0_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OutputFormat | str | Unset, data)

        output_format = _parse_output_format(d.pop("output_format", UNSET))

        def _parse_partial_image_index(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        partial_image_index = _parse_partial_image_index(d.pop("partial_image_index", UNSET))

        image_edit_partial_image_event = cls(
            type_=type_,
            b64_json=b64_json,
            created_at=created_at,
            size=size,
            quality=quality,
            background=background,
            output_format=output_format,
            partial_image_index=partial_image_index,
        )

        image_edit_partial_image_event.additional_properties = d
        return image_edit_partial_image_event

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
