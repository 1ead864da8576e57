from __future__ import annotations

from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
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

if TYPE_CHECKING:
    from ..models.image_usage import ImageUsage


T = TypeVar("T", bound="ImageEditCompletedEvent")


@_attrs_define
class ImageEditCompletedEvent:
    """A finished image of an edit."""

    type_: Literal["image_edit.completed"] | Unset = UNSET
    b64_json: None | str | Unset = UNSET
    """ The final image, base64-encoded. """
    created_at: int | None | Unset = UNSET
    """ When the event was made, in seconds since the Unix epoch. """
    size: None | str | Unset = UNSET
    quality: None | str | StreamedQuality | Unset = UNSET
    """ The requested quality. """
    background: None | str | StreamedBackground | Unset = UNSET
    """ The requested background. """
    output_format: None | OutputFormat | str | Unset = UNSET
    """ The file format of GPT image model output (default `png`). """
    usage: ImageUsage | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.image_usage import ImageUsage  # noqa: PLC0415

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

        usage: dict[str, Any] | None | Unset
        if isinstance(self.usage, Unset):
            usage = UNSET
        elif isinstance(self.usage, ImageUsage):
            usage = self.usage.to_dict()
        else:
            usage = self.usage

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
        if usage is not UNSET:
            field_dict["usage"] = usage

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.image_usage import ImageUsage  # noqa: PLC0415

        d = dict(src_dict)
        type_ = cast(Literal["image_edit.completed"] | Unset, d.pop("type", UNSET))
        if type_ != "image_edit.completed" and not isinstance(type_, Unset):
            raise ValueError(f"type must match const 'image_edit.completed', got '{type_}'")

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

        def _parse_usage(data: object) -> ImageUsage | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                usage_type_0 = ImageUsage.from_dict(data)

                return usage_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ImageUsage | None | Unset, data)

        usage = _parse_usage(d.pop("usage", UNSET))

        image_edit_completed_event = cls(
            type_=type_,
            b64_json=b64_json,
            created_at=created_at,
            size=size,
            quality=quality,
            background=background,
            output_format=output_format,
            usage=usage,
        )

        image_edit_completed_event.additional_properties = d
        return image_edit_completed_event

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
