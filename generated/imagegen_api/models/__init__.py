"""Contains all the data models used in inputs/outputs"""

from .create_image_edit_json_request import CreateImageEditJsonRequest
from .create_image_edit_request import CreateImageEditRequest
from .create_image_request import CreateImageRequest
from .create_image_variation_request import CreateImageVariationRequest
from .error import Error
from .error_response import ErrorResponse
from .image import Image
from .image_background import ImageBackground
from .image_edit_completed_event import ImageEditCompletedEvent
from .image_edit_partial_image_event import ImageEditPartialImageEvent
from .image_generation_completed_event import ImageGenerationCompletedEvent
from .image_generation_partial_image_event import ImageGenerationPartialImageEvent
from .image_quality import ImageQuality
from .image_reference import ImageReference
from .image_style import ImageStyle
from .image_usage import ImageUsage
from .images_response import ImagesResponse
from .input_fidelity import InputFidelity
from .input_tokens_details import InputTokensDetails
from .moderation import Moderation
from .output_format import OutputFormat
from .output_tokens_details import OutputTokensDetails
from .response_format import ResponseFormat
from .result_background import ResultBackground
from .result_quality import ResultQuality
from .streamed_background import StreamedBackground
from .streamed_quality import StreamedQuality

__all__ = (
    "CreateImageEditJsonRequest",
    "CreateImageEditRequest",
    "CreateImageRequest",
    "CreateImageVariationRequest",
    "Error",
    "ErrorResponse",
    "Image",
    "ImageBackground",
    "ImageEditCompletedEvent",
    "ImageEditPartialImageEvent",
    "ImageGenerationCompletedEvent",
    "ImageGenerationPartialImageEvent",
    "ImageQuality",
    "ImageReference",
    "ImagesResponse",
    "ImageStyle",
    "ImageUsage",
    "InputFidelity",
    "InputTokensDetails",
    "Moderation",
    "OutputFormat",
    "OutputTokensDetails",
    "ResponseFormat",
    "ResultBackground",
    "ResultQuality",
    "StreamedBackground",
    "StreamedQuality",
)
