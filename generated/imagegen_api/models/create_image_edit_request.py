from __future__ import annotations

import json
from collections.abc import Mapping
from io import BytesIO
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .. import types
from ..types import UNSET, File, FileTypes, Unset

if TYPE_CHECKING:
    from ..models.create_image_edit_request_background import (
        CreateImageEditRequestBackground,
    )
    from ..models.create_image_edit_request_input_fidelity import (
        CreateImageEditRequestInputFidelity,
    )
    from ..models.create_image_edit_request_output_format import (
        CreateImageEditRequestOutputFormat,
    )
    from ..models.create_image_edit_request_quality import CreateImageEditRequestQuality
    from ..models.create_image_edit_request_response_format import (
        CreateImageEditRequestResponseFormat,
    )


T = TypeVar("T", bound="CreateImageEditRequest")


@_attrs_define
class CreateImageEditRequest:
    """The multipart form of an edit. Give the source images either as `image[]` parts (1 to 16)
    or as a single `image` part.

    """

    prompt: str
    """ What the images should show. Models have shorter limits than this contract's 32000
    characters: 1000 for `dall-e-2`, 4000 for `dall-e-3`.
     """
    image: list[File] | Unset = UNSET
    """ The source images, one part each: PNG, JPEG or WebP under 50 MB for the GPT image
    models; a single square PNG under 4 MB for `dall-e-2`.
     """
    mask: File | Unset = UNSET
    """ A PNG with an alpha channel, of the same size as the first image: where its alpha is 0
    the model repaints, elsewhere the first image is kept. Under 4 MB.
     """
    model: str | Unset = UNSET
    """ The model that creates the images. The OpenAI models are `dall-e-2`, `dall-e-3`,
    `gpt-image-1`, `gpt-image-1-mini`, `gpt-image-1.5` and `gpt-image-2`; other servers name
    their own (for example `sd-1.5-ggml` on LocalAI). What each model accepts is listed in
    the contract's `x-imagegen-models`. When left out, generations use `dall-e-2`, edits `gpt-image-1.5`
    and variations `dall-e-2`.
     """
    n: int | Unset = UNSET
    """ How many images to create, 1 to 10 (server default 1). `dall-e-3` makes one only. """
    size: str | Unset = UNSET
    """ `WIDTHxHEIGHT` in pixels, or `auto` to let the model choose. Each model takes its own set:
    `dall-e-2` 256x256, 512x512, 1024x1024; `dall-e-3` 1024x1024, 1792x1024, 1024x1792; the
    GPT image models 1024x1024, 1536x1024, 1024x1536 and auto; `gpt-image-2` also any size
    whose sides are multiples of 16, with a ratio of at most 3:1 and at most 3840x2160.
     """
    quality: CreateImageEditRequestQuality | Unset = UNSET
    """ How much effort goes into each image (server default `auto`). `low`, `medium` and `high`
    are for the GPT image models, `standard` and `hd` for `dall-e-3`; `dall-e-2` knows only
    `standard`.
     """
    response_format: CreateImageEditRequestResponseFormat | Unset = UNSET
    """ How `dall-e-2` and `dall-e-3` return images: a `url` valid for 60 minutes (their default)
    or the bytes as `b64_json`. GPT image models always return `b64_json` and reject this field.
     """
    background: CreateImageEditRequestBackground | Unset = UNSET
    """ Background of GPT image model output (default `auto`). `transparent` needs an output
    format with an alpha channel, `png` or `webp`.
     """
    output_format: CreateImageEditRequestOutputFormat | Unset = UNSET
    """ The file format of GPT image model output (default `png`). """
    output_compression: int | Unset = UNSET
    """ Compression level in percent for `jpeg` and `webp` output of GPT image models (default 100). """
    input_fidelity: CreateImageEditRequestInputFidelity | Unset = UNSET
    """ How closely an edit keeps the style and features (faces in particular) of the input images
    (default `low`). Taken by `gpt-image-1`, `gpt-image-1.5` and later, not `gpt-image-1-mini`.
     """
    stream: bool | Unset = UNSET
    """ Answer with server-sent events instead of one JSON body (GPT image models; default false). """
    partial_images: int | Unset = UNSET
    """ How many partial images a stream sends before each final image, 0 to 3 (default 0). A
    server may finish before sending them all.
     """
    user: str | Unset = UNSET
    """ An identifier of the end user on whose behalf the request is made, to help detect abuse. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        prompt = self.prompt

        image: list[FileTypes] | Unset = UNSET
        if not isinstance(self.image, Unset):
            image = []
            for image_item_data in self.image:
                image_item = image_item_data.to_tuple()

                image.append(image_item)

        mask: FileTypes | Unset = UNSET
        if not isinstance(self.mask, Unset):
            mask = self.mask.to_tuple()

        model = self.model

        n = self.n

        size = self.size

        quality: dict[str, Any] | Unset = UNSET
        if not isinstance(self.quality, Unset):
            quality = self.quality.to_dict()

        response_format: dict[str, Any] | Unset = UNSET
        if not isinstance(self.response_format, Unset):
            response_format = self.response_format.to_dict()

        background: dict[str, Any] | Unset = UNSET
        if not isinstance(self.background, Unset):
            background = self.background.to_dict()

        output_format: dict[str, Any] | Unset = UNSET
        if not isinstance(self.output_format, Unset):
            output_format = self.output_format.to_dict()

        output_compression = self.output_compression

        input_fidelity: dict[str, Any] | Unset = UNSET
        if not isinstance(self.input_fidelity, Unset):
            input_fidelity = self.input_fidelity.to_dict()

        stream = self.stream

        partial_images = self.partial_images

        user = self.user

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "prompt": prompt,
            }
        )
        if image is not UNSET:
            field_dict["image[]"] = image
        if mask is not UNSET:
            field_dict["mask"] = mask
        if model is not UNSET:
            field_dict["model"] = model
        if n is not UNSET:
            field_dict["n"] = n
        if size is not UNSET:
            field_dict["size"] = size
        if quality is not UNSET:
            field_dict["quality"] = quality
        if response_format is not UNSET:
            field_dict["response_format"] = response_format
        if background is not UNSET:
            field_dict["background"] = background
        if output_format is not UNSET:
            field_dict["output_format"] = output_format
        if output_compression is not UNSET:
            field_dict["output_compression"] = output_compression
        if input_fidelity is not UNSET:
            field_dict["input_fidelity"] = input_fidelity
        if stream is not UNSET:
            field_dict["stream"] = stream
        if partial_images is not UNSET:
            field_dict["partial_images"] = partial_images
        if user is not UNSET:
            field_dict["user"] = user

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.extend(types.form_field("prompt", self.prompt))

        if not isinstance(self.image, Unset):
            for image_item_element in self.image:
                files.append(("image[]", image_item_element.to_tuple()))

        if not isinstance(self.mask, Unset):
            files.append(("mask", self.mask.to_tuple()))

        if not isinstance(self.model, Unset):
            files.extend(types.form_field("model", self.model))

        if not isinstance(self.n, Unset):
            files.append(("n", (None, str(self.n).encode(), "text/plain")))

        if not isinstance(self.size, Unset):
            files.extend(types.form_field("size", self.size))

        if not isinstance(self.quality, Unset):
            files.append(("quality", (None, json.dumps(self.quality.to_dict()).encode(), "application/json")))

        if not isinstance(self.response_format, Unset):
            files.append(
                ("response_format", (None, json.dumps(self.response_format.to_dict()).encode(), "application/json"))
            )

        if not isinstance(self.background, Unset):
            files.append(("background", (None, json.dumps(self.background.to_dict()).encode(), "application/json")))

        if not isinstance(self.output_format, Unset):
            files.append(
                ("output_format", (None, json.dumps(self.output_format.to_dict()).encode(), "application/json"))
            )

        if not isinstance(self.output_compression, Unset):
            files.append(("output_compression", (None, str(self.output_compression).encode(), "text/plain")))

        if not isinstance(self.input_fidelity, Unset):
            files.append(
                ("input_fidelity", (None, json.dumps(self.input_fidelity.to_dict()).encode(), "application/json"))
            )

        if not isinstance(self.stream, Unset):
            files.append(("stream", (None, b"true" if self.stream else b"false", "text/plain")))

        if not isinstance(self.partial_images, Unset):
            files.append(("partial_images", (None, str(self.partial_images).encode(), "text/plain")))

        if not isinstance(self.user, Unset):
            files.extend(types.form_field("user", self.user))

        for prop_name, prop in self.additional_properties.items():
            files.extend(types.form_field(prop_name, prop))

        return files

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.create_image_edit_request_background import (
            CreateImageEditRequestBackground,  # noqa: PLC0415
        )
        from ..models.create_image_edit_request_input_fidelity import (
            CreateImageEditRequestInputFidelity,  # noqa: PLC0415
        )
        from ..models.create_image_edit_request_output_format import (
            CreateImageEditRequestOutputFormat,  # noqa: PLC0415
        )
        from ..models.create_image_edit_request_quality import (
            CreateImageEditRequestQuality,  # noqa: PLC0415
        )
        from ..models.create_image_edit_request_response_format import (
            CreateImageEditRequestResponseFormat,  # noqa: PLC0415
        )

        d = dict(src_dict)
        prompt = d.pop("prompt")

        _image = d.pop("image[]", UNSET)
        image: list[File] | Unset = UNSET
        if _image is not UNSET:
            image = []
            for image_item_data in _image:
                image_item = File(payload=BytesIO(image_item_data))

                image.append(image_item)

        _mask = d.pop("mask", UNSET)
        mask: File | Unset
        if isinstance(_mask, Unset):
            mask = UNSET
        else:
            mask = File(payload=BytesIO(_mask))

        model = d.pop("model", UNSET)

        n = d.pop("n", UNSET)

        size = d.pop("size", UNSET)

        _quality = d.pop("quality", UNSET)
        quality: CreateImageEditRequestQuality | Unset
        if isinstance(_quality, Unset):
            quality = UNSET
        else:
            quality = CreateImageEditRequestQuality.from_dict(_quality)

        _response_format = d.pop("response_format", UNSET)
        response_format: CreateImageEditRequestResponseFormat | Unset
        if isinstance(_response_format, Unset):
            response_format = UNSET
        else:
            response_format = CreateImageEditRequestResponseFormat.from_dict(_response_format)

        _background = d.pop("background", UNSET)
        background: CreateImageEditRequestBackground | Unset
        if isinstance(_background, Unset):
            background = UNSET
        else:
            background = CreateImageEditRequestBackground.from_dict(_background)

        _output_format = d.pop("output_format", UNSET)
        output_format: CreateImageEditRequestOutputFormat | Unset
        if isinstance(_output_format, Unset):
            output_format = UNSET
        else:
            output_format = CreateImageEditRequestOutputFormat.from_dict(_output_format)

        output_compression = d.pop("output_compression", UNSET)

        _input_fidelity = d.pop("input_fidelity", UNSET)
        input_fidelity: CreateImageEditRequestInputFidelity | Unset
        if isinstance(_input_fidelity, Unset):
            input_fidelity = UNSET
        else:
            input_fidelity = CreateImageEditRequestInputFidelity.from_dict(_input_fidelity)

        stream = d.pop("stream", UNSET)

        partial_images = d.pop("partial_images", UNSET)

        user = d.pop("user", UNSET)

        create_image_edit_request = cls(
            prompt=prompt,
            image=image,
            mask=mask,
            model=model,
            n=n,
            size=size,
            quality=quality,
            response_format=response_format,
            background=background,
            output_format=output_format,
            output_compression=output_compression,
            input_fidelity=input_fidelity,
            stream=stream,
            partial_images=partial_images,
            user=user,
        )

        create_image_edit_request.additional_properties = d
        return create_image_edit_request

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
