from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .. import types
from ..models.response_format import ResponseFormat, check_response_format
from ..types import UNSET, File, Unset

T = TypeVar("T", bound="CreateImageVariationRequest")


@_attrs_define
class CreateImageVariationRequest:
    """The multipart form of a variation request."""

    image: File
    """ The source image, a square PNG under 4 MB. """
    model: str | Unset = UNSET
    """ The model that creates the images. OpenAI serves `gpt-image-1`, `gpt-image-1-mini`,
    `gpt-image-1.5`, `gpt-image-2` (also as its snapshot `gpt-image-2-2026-04-21`) and, for
    edits, `chatgpt-image-latest`; `dall-e-2` and `dall-e-3` are retired from OpenAI's own API
    but compatible servers still serve them. Other servers name their own models (for
    example `sd-1.5-ggml` on LocalAI). What each model accepts is listed in the contract's
    `x-imagegen-models`. When left out, generations use `dall-e-2`, edits `gpt-image-1.5` and
    variations `dall-e-2`.
     """
    n: int | Unset = UNSET
    """ How many images to create, 1 to 10 (server default 1). `dall-e-3` makes one only. """
    size: str | Unset = UNSET
    """ `WIDTHxHEIGHT` in pixels, or `auto` to let the model choose. Each model takes its own set:
    `dall-e-2` 256x256, 512x512, 1024x1024; `dall-e-3` 1024x1024, 1792x1024, 1024x1792; the
    GPT image models 1024x1024, 1536x1024, 1024x1536 and auto; `gpt-image-2` also any size
    whose sides are multiples of 16, with a ratio of at most 3:1 and at most 3840x2160.
     """
    response_format: ResponseFormat | str | Unset = UNSET
    """ How `dall-e-2` and `dall-e-3` return images: a `url` valid for 60 minutes (their default)
    or the bytes as `b64_json`. GPT image models always return `b64_json` and reject this field.
     """
    user: str | Unset = UNSET
    """ An identifier of the end user on whose behalf the request is made, to help detect abuse. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        image = self.image.to_tuple()

        model = self.model

        n = self.n

        size = self.size

        response_format: str | Unset
        if isinstance(self.response_format, Unset):
            response_format = UNSET
        elif isinstance(self.response_format, str):
            response_format = self.response_format
        else:
            response_format = self.response_format

        user = self.user

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "image": image,
            }
        )
        if model is not UNSET:
            field_dict["model"] = model
        if n is not UNSET:
            field_dict["n"] = n
        if size is not UNSET:
            field_dict["size"] = size
        if response_format is not UNSET:
            field_dict["response_format"] = response_format
        if user is not UNSET:
            field_dict["user"] = user

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("image", self.image.to_tuple()))

        if not isinstance(self.model, Unset):
            files.extend(types.form_field("model", self.model))

        if not isinstance(self.n, Unset):
            files.append(("n", (None, str(self.n).encode(), "text/plain")))

        if not isinstance(self.size, Unset):
            files.extend(types.form_field("size", self.size))

        if not isinstance(self.response_format, Unset):
            if isinstance(self.response_format, str):
                files.append(("response_format", (None, str(self.response_format).encode(), "text/plain")))
            else:
                files.extend(types.form_field("response_format", self.response_format))

        if not isinstance(self.user, Unset):
            files.extend(types.form_field("user", self.user))

        for prop_name, prop in self.additional_properties.items():
            files.extend(types.form_field(prop_name, prop))

        return files

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        image = File(payload=BytesIO(d.pop("image")))

        model = d.pop("model", UNSET)

        n = d.pop("n", UNSET)

        size = d.pop("size", UNSET)

        def _parse_response_format(data: object) -> ResponseFormat | str | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                response_format_type_0 = check_response_format(data)

                return response_format_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ResponseFormat | str | Unset, data)

        response_format = _parse_response_format(d.pop("response_format", UNSET))

        user = d.pop("user", UNSET)

        create_image_variation_request = cls(
            image=image,
            model=model,
            n=n,
            size=size,
            response_format=response_format,
            user=user,
        )

        create_image_variation_request.additional_properties = d
        return create_image_variation_request

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
