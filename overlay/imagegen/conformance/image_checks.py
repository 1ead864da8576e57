"""Checks of the images themselves, registered with schemathesis beside its own checks.

Each runs on every 200 answer to a valid request (a positive case) of a conformance run, JSON or
streamed, and judges what the request asked for, with the model's defaults for what it left out
(see `context.asked`). A check that has nothing to judge in an answer (no mask, no usage, no URL)
is not counted for it. Each check judges one property, so a defect is reported by one check:
what the schema already says (a missing `b64_json`) is left to schemathesis' schema check.

The checks' docstrings are their explanations in the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any

import schemathesis
from schemathesis.core.failures import Failure, FailureGroup, Severity

from ..contract import Contract, ModelRules
from .answers import MISLABELLED, NOT_AN_IMAGE, UNANSWERED, Answer, AnswerImage, fetcher, read_answer
from .context import Asked, RunContext, asked, context_of, mask_promising_models, sizes_allowed
from .images import MASK_MEAN_TOLERANCE, MASK_OUTLIER_SHARE, OUTLIER_DIFFERENCE, format_name, kept_difference
from .images import transparency as read_transparency

NOT_APPLICABLE = True  # what a check returns when it has nothing to judge: schemathesis counts nothing


class ImageCheckFailure(Failure):
    """A failure of one of imagegen's checks; distinct titles are distinct findings."""

    code = "ST901"
    kind_title = "imagegen check failed"

    @property
    def _unique_key(self) -> str:
        return self.title


def fail(case: Any, failures: Iterable[tuple[str, str]]) -> None:
    """Raise the (title, message) failures for schemathesis to record, if there are any."""
    found = [
        ImageCheckFailure(
            operation=case.operation.label, title=title, message=message, severity=Severity.HIGH
        )
        for title, message in dict(failures).items()
    ]
    if len(found) == 1:
        raise found[0]
    if found:
        raise FailureGroup(found)


Scope = tuple[RunContext, Asked, Answer]


def scope(case: Any, response: Any) -> Scope | None:
    """The run, what was asked and the answer, for a 200 answer to a valid request of a run."""
    run = context_of(case)
    if run is None or response.status_code != 200:
        return None
    request = asked(run, case)
    if request is None:
        return None
    api_url = str(response.request.url)
    answer = run.memo(
        "answer", response, lambda: read_answer(response, fetcher(run.http, run.token, api_url))
    )
    if answer is None:
        return None
    return run, request, answer


def _listing(problems: list[str], limit: int = 3) -> str:
    shown = problems[:limit]
    more = f"\n(and {len(problems) - limit} more)" if len(problems) > limit else ""
    return "\n".join(shown) + more


@schemathesis.check
def b64_json_is_image(ctx: Any, response: Any, case: Any) -> bool | None:
    """Each `b64_json` is the strict base64 (no data: prefix, no whitespace) of a whole image file."""
    found = scope(case, response)
    images = [image for image in found[2].images if image.source == "b64_json"] if found else []
    if not images:
        return NOT_APPLICABLE
    problems = [image.problem for image in images if image.problem is not None]
    if problems:
        fail(case, [("b64_json is not the base64 of an image", _listing(problems))])
    return None


@schemathesis.check
def url_serves_image(ctx: Any, response: Any, case: Any) -> bool | None:
    """Each `url` answers 200 with an image under its own image content type (the API key is sent
    to the API's own origin only)."""
    found = scope(case, response)
    images = [image for image in found[2].images if image.source == "url"] if found else []
    if not images:
        return NOT_APPLICABLE
    titles = {
        UNANSWERED: "An image URL does not serve its image",
        NOT_AN_IMAGE: "An image URL serves something that is not an image",
        MISLABELLED: "An image URL serves its image under the wrong content type",
    }
    failures = []
    for kind, title in titles.items():
        problems = [image.problem for image in images if image.kind == kind and image.problem]
        if problems:
            failures.append((title, _listing(problems)))
    fail(case, failures)
    return None


def _decoded(answer: Answer) -> list[AnswerImage]:
    return [image for image in answer.images if image.info is not None and image.data is not None]


@schemathesis.check
def image_format_matches(ctx: Any, response: Any, case: Any) -> bool | None:
    """Each image is, by its bytes, in the `output_format` asked for (or the model's default)."""
    found = scope(case, response)
    if found is None or found[1].output_format is None or not _decoded(found[2]):
        return NOT_APPLICABLE
    _, request, answer = found
    wanted = request.output_format
    assert wanted is not None
    why = "asked for" if request.given("output_format") else "the model's default"
    wrong = [
        f"{image.where} is a {format_name(image.info.format)}"
        for image in _decoded(answer)
        if image.info is not None and image.info.format != wanted
    ]
    if wrong:
        fail(
            case,
            [
                (
                    "Images are not in the requested format",
                    f"output_format {wanted} ({why}), but:\n{_listing(wrong)}",
                )
            ],
        )
    return None


@schemathesis.check
def image_size_matches(ctx: Any, response: Any, case: Any) -> bool | None:
    """Each image has the `size` asked for; for `auto` (or no size), a size the model makes."""
    found = scope(case, response)
    if found is None or not _decoded(found[2]):
        return NOT_APPLICABLE
    _, request, answer = found
    allowed = sizes_allowed(request.rules, request.size)
    if allowed is None:
        return NOT_APPLICABLE
    exact, custom = allowed
    wrong = []
    for image in _decoded(answer):
        assert image.info is not None
        size = image.info.size
        if size in exact or (
            custom is not None and custom.why_not(image.info.width, image.info.height) is None
        ):
            continue
        wrong.append(f"{image.where} is {size}")
    if wrong:
        fail(
            case,
            [
                (
                    "Images are not of the requested size",
                    f"{_size_rule(request.rules, request)}, but:\n{_listing(wrong)}",
                )
            ],
        )
    return None


def _size_rule(rules: ModelRules | None, request: Asked) -> str:
    if request.size is not None and request.size != "auto":
        why = "asked for" if request.given("size") else "the model's default"
        return f"size {request.size} ({why})"
    exact, custom = sizes_allowed(rules, request.size) or (set(), None)
    made = ", ".join(sorted(exact, key=lambda size: (len(size), size)))
    if custom is not None:
        made = f"{made}, or {custom.describe()}" if made else custom.describe()
    model = rules.name if rules is not None else "the model"
    return f"size {request.size or 'left out'}, so a size {model} makes: {made}"


@schemathesis.check
def image_count_matches(ctx: Any, response: Any, case: Any) -> bool | None:
    """A JSON answer has `n` images (one when `n` is left out). Streams: see stream_completed_events."""
    found = scope(case, response)
    if found is None or found[2].streamed or found[2].body is None:
        return NOT_APPLICABLE
    _, request, answer = found
    data = answer.body.get("data") if answer.body is not None else None
    count = len(data) if isinstance(data, list) else 0
    if count != request.n:
        why = "asked for" if request.given("n") is not None else "left out, so 1"
        fail(
            case,
            [("The answer does not have n images", f"n was {request.n} ({why}); the answer has {count}")],
        )
    return None


@schemathesis.check
def transparent_background(ctx: Any, response: Any, case: Any) -> bool | None:
    """`background: transparent` gives images with an alpha channel and fully transparent pixels."""
    found = scope(case, response)
    if found is None or found[1].background != "transparent" or not _decoded(found[2]):
        return NOT_APPLICABLE
    opaque = []
    for image in _decoded(found[2]):
        assert image.data is not None
        seen = read_transparency(image.data)
        if not seen.has_alpha:
            opaque.append(f"{image.where} has no alpha channel")
        elif not seen.transparent_pixels:
            opaque.append(f"{image.where} has an alpha channel but not one fully transparent pixel")
    if opaque:
        fail(case, [("background: transparent gave an opaque image", _listing(opaque))])
    return None


@schemathesis.check
def mask_keeps_unmasked_pixels(ctx: Any, response: Any, case: Any) -> bool | None:
    """An edit with a mask keeps the first image where the mask's alpha is 255, for models that
    promise it (promises.yaml): mean difference at most 12 of 255 per channel, and at most 5% of
    the kept pixels off by more than 64 (lossy formats and other resampling filters fit in that)."""
    found = scope(case, response)
    if found is None or found[1].rules is None or found[1].rules.name not in mask_promising_models():
        return NOT_APPLICABLE
    _, request, answer = found
    if request.mask is None or request.first_image is None or not _decoded(answer):
        return NOT_APPLICABLE
    first, mask = request.first_image, request.mask
    repainted, compared = [], 0
    for image in _decoded(answer):
        assert image.data is not None
        difference = kept_difference(image.data, first, mask)
        if difference is None:
            continue
        compared += 1
        if not difference.within_tolerance:
            repainted.append(
                f"{image.where}: mean difference {difference.mean:.1f} of 255, "
                f"{100 * difference.outliers:.1f}% of {difference.compared} kept pixels off by more than "
                f"{OUTLIER_DIFFERENCE}"
            )
    if not compared:
        return NOT_APPLICABLE
    if repainted:
        tolerance = f"at most {MASK_MEAN_TOLERANCE:g} on average and {100 * MASK_OUTLIER_SHARE:g}% of pixels"
        fail(
            case,
            [
                (
                    "The edit changed pixels the mask keeps",
                    f"where the mask's alpha is 255 the first image must be kept ({tolerance}), but:\n"
                    + _listing(repainted),
                )
            ],
        )
    return None


@schemathesis.check
def usage_adds_up(ctx: Any, response: Any, case: Any) -> bool | None:
    """Where `usage` is given, total_tokens = input_tokens + output_tokens, and the details of each
    add up to no more than it."""
    found = scope(case, response)
    if found is None:
        return NOT_APPLICABLE
    answer = found[2]
    usages: list[tuple[str, Mapping[str, Any]]] = []
    if answer.body is not None and isinstance(answer.body.get("usage"), Mapping):
        usages.append(("usage", answer.body["usage"]))
    for event in answer.events:
        if event.data is not None and isinstance(event.data.get("usage"), Mapping):
            usages.append((f"event {event.number} usage", event.data["usage"]))
    if not usages:
        return NOT_APPLICABLE
    problems = [problem for where, usage in usages for problem in _usage_problems(where, usage)]
    if problems:
        fail(case, [("usage does not add up", _listing(problems))])
    return None


def _usage_problems(where: str, usage: Mapping[str, Any]) -> list[str]:
    def number(value: Any) -> int | None:
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    problems = []
    given, made, total = (number(usage.get(key)) for key in ("input_tokens", "output_tokens", "total_tokens"))
    if given is not None and made is not None and total is not None and given + made != total:
        problems.append(
            f"{where}: input_tokens {given} + output_tokens {made} = {given + made}, not total_tokens {total}"
        )
    for details_key, total_key in (
        ("input_tokens_details", "input_tokens"),
        ("output_tokens_details", "output_tokens"),
    ):
        details = usage.get(details_key)
        whole = number(usage.get(total_key))
        if not isinstance(details, Mapping) or whole is None:
            continue
        parts = {name: number(value) for name, value in details.items() if number(value) is not None}
        if sum(parts.values()) > whole:  # type: ignore[arg-type]
            listed = " + ".join(f"{name} {value}" for name, value in parts.items())
            problems.append(f"{where}: {details_key} {listed} = {sum(parts.values())} > {total_key} {whole}")  # type: ignore[arg-type]
    return problems


@schemathesis.check
def echoed_fields_match(ctx: Any, response: Any, case: Any) -> bool | None:
    """Answer fields that echo the request (size, quality, output_format, background) agree with
    the request where it set them, and with the images where it left the choice to the server."""
    found = scope(case, response)
    if found is None:
        return NOT_APPLICABLE
    run, request, answer = found
    containers: list[tuple[str, Mapping[str, Any], str | None]] = []
    if answer.body is not None and request.operation.answer is not None:
        containers.append(("the answer", answer.body, request.operation.answer))
    for event in answer.events:
        if event.data is not None:
            containers.append((f"event {event.number}", event.data, request.operation.stream_schema))
    images = _decoded(answer)
    judged = False
    failures = []
    for where, container, schema_name in containers:
        for name, answer_values in _echoed(run, request, schema_name).items():
            said = container.get(name)
            if said is None:
                continue
            judged = True
            problem = _echo_problem(request.rules, request, name, said, answer_values, images)
            if problem is not None:
                failures.append((f"The answer's {name} disagrees with the request", f"{where}: {problem}"))
    if not judged:
        return NOT_APPLICABLE
    fail(case, failures)
    return None


def _echoed(run: RunContext, request: Asked, schema_name: str | None) -> dict[str, tuple[Any, ...] | None]:
    """The fields an answer (or event) schema shares with the request, and the values the answer
    schema allows for each (None when it lists none)."""
    if schema_name is None:
        return {}
    return _echoed_fields(run.contract, request.operation.id, schema_name)


@cache
def _echoed_fields(
    contract: Contract, operation_id: str, schema_name: str
) -> dict[str, tuple[Any, ...] | None]:
    requested = {info.name for info in contract.request_fields(operation_id) if not info.upload}
    return {info.name: info.enum for info in contract.fields(schema_name) if info.name in requested}


def _echo_problem(
    rules: ModelRules | None,
    request: Asked,
    name: str,
    said: Any,
    answer_values: tuple[Any, ...] | None,
    images: list[AnswerImage],
) -> str | None:
    given = request.given(name)
    wanted = given if given is not None else (rules.default(name) if rules is not None else None)
    if wanted is not None and wanted != "auto" and (answer_values is None or wanted in answer_values):
        if said != wanted:
            why = "asked for" if given is not None else "the model's default"
            return f"{name} {wanted} ({why}), but the answer says {said}"
        return None
    # Left to the server: what it says must be what it made.
    actual: Callable[[AnswerImage], str] | None = None
    if name == "size":
        actual = lambda image: image.info.size if image.info else ""  # noqa: E731
    elif name == "output_format":
        actual = lambda image: image.info.format if image.info else ""  # noqa: E731
    if actual is None or said == "auto" or not images:
        return None
    made = sorted({actual(image) for image in images})
    if made != [said]:
        return (
            f"{name} was {wanted or 'left out'}, the answer says {said}, but the images are {', '.join(made)}"
        )
    return None


IMAGE_CHECKS = (
    b64_json_is_image.__name__,
    url_serves_image.__name__,
    image_format_matches.__name__,
    image_size_matches.__name__,
    image_count_matches.__name__,
    transparent_background.__name__,
    mask_keeps_unmasked_pixels.__name__,
    usage_adds_up.__name__,
    echoed_fields_match.__name__,
)

__all__ = ["IMAGE_CHECKS", "ImageCheckFailure", "fail", "scope"]
