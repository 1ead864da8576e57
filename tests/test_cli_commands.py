"""The `imagegen` command end to end: generate, edit, vary and the seed's `openai` commands, against
the reference server on loopback (in this process, faults enabled).

Most runs call the command's `main` in this process (tests/support/cli.py); runs that change
the process's logging (-v), interrupt it, or check the installed script itself are subprocesses."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image

from .conftest import REFERENCE_TOKEN
from .support.cli import IMAGEGEN, run_main
from .support.interrupt import interruptible
from .support.recording_server import recording_server

TOKEN = REFERENCE_TOKEN  # the shared server's (tests/conftest.py)
WRONG_TOKEN = "sk-wrong-token-7777"
LOCAL_MODEL = "sd-1.5-ggml"  # LocalAI-like: any WIDTHxHEIGHT from 64 to 1024, png/jpeg/webp
RUN_TIMEOUT_S = 60
SEED_DESCRIPTION = "{'prompt':'Yellow alpaca','n':'1','size':'1024x1024'}"  # the seed's own example
SMALL_DESCRIPTION = "{'prompt':'Yellow alpaca','size':'256x256'}"  # for dall-e-2
DALL_E_3_TWO_IMAGES = ("--model", "dall-e-3", "--size", "1024x1024", "-n", "2")  # dall-e-3 makes one


@pytest.fixture(scope="module")
def base_url(reference_url: str) -> str:
    """The session's reference server (token, faults on, sd-1.5-ggml): tests/conftest.py."""
    return reference_url


@pytest.fixture
def root(base_url: str) -> str:
    """The server root as the seed takes it: without /v1, with a trailing slash."""
    return base_url.removesuffix("/v1") + "/"


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without OpenAI settings or proxies (PATH kept), plus `extra`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith("OPENAI_") and not name.upper().endswith("_PROXY")
    }
    env.update(extra)
    return env


def imagegen(
    *args: str, stdin: str = "", env: dict[str, str] | None = None, installed: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the command to its end: the installed script in a subprocess if `installed` or with
    -v (its logging setup is the process's), otherwise `main` in this process. Whatever the
    command, the key never shows in its output, and it never ends in a traceback."""
    environment = env if env is not None else clean_env()
    if installed or "-v" in args or "--verbose" in args:
        done = subprocess.run(
            [IMAGEGEN, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            env=environment,
            check=False,
        )
    else:
        done = run_main(list(args), stdin, environment)
    assert TOKEN not in done.stdout + done.stderr, (done.stdout, done.stderr)
    assert "Traceback (most recent call last)" not in done.stderr, done.stderr
    return done


def connection(base_url: str) -> list[str]:
    return ["--url", base_url, "--token", TOKEN]


def generate(base_url: str, folder: Path, *args: str, prompt: str = "Yellow alpaca") -> list[str]:
    """`generate PROMPT --url --token -o FOLDER ARGS`, with dall-e-2 and 256x256 unless ARGS say."""
    model = [] if "--model" in args else ["--model", "dall-e-2"]
    size = [] if "--size" in args else ["--size", "256x256"]
    return ["generate", prompt, *connection(base_url), *model, *size, "-o", str(folder), *args]


def get_images(
    root: str, *args: str, token: str = TOKEN, model: str = "dall-e-3", descr: str = SEED_DESCRIPTION
) -> list[str]:
    """The seed's GetImages command line (the program name replaced), then ARGS."""
    return ["openai", "GetImages", "--url", root, "--token", token, "--model", model, "--descr", descr, *args]


def describe(*args: str) -> list[str]:
    return ["openai", "GetImageDescriptionStructure", "--prompt", "Yellow alpaca", "--amount", "1", *args]


def fault(spec: str) -> str:
    """--headers asking the reference server for a fault."""
    return json.dumps({"X-Imagegen-Fault": spec})


def saved_paths(stdout: str) -> list[Path]:
    return [Path(line) for line in stdout.splitlines() if line.strip()]


def format_and_size(path: Path) -> tuple[str, tuple[int, int]]:
    """What the file really is, by decoding it."""
    with Image.open(path) as image:
        image.load()
        return str(image.format), image.size


def files_in(folder: Path) -> list[str]:
    """Every entry of `folder`, hidden ones too."""
    return sorted(os.listdir(folder))


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def write_png(path: Path, colour: str, size: tuple[int, int] = (256, 256)) -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


# ---- interrupting (first: the server finishes the slow request while the other tests run) ------


def test_ctrl_c_while_waiting_exits_130_and_leaves_no_file(base_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    process = subprocess.Popen(
        [IMAGEGEN, *generate(base_url, folder, "--headers", fault("latency=5; id=cli-interrupt"))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
        preexec_fn=interruptible,
    )
    try:
        time.sleep(1.0)
        assert process.poll() is None, "the command ended before the server answered"
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == 130, stderr
    assert time.monotonic() - sent < 3.0  # it stopped at once, not when the answer came
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
    assert stdout == ""
    assert TOKEN not in stdout + stderr
    assert files_in(folder) == []  # no image, no hidden .part file


# ---- generate ------------------------------------------------------------------------------------


def test_generate_saves_into_the_output_folder_and_prints_each_saved_path(
    base_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "new" / "images"
    done = imagegen(*generate(base_url, folder, "-n", "2"), installed=True)
    assert done.returncode == 0, done.stderr
    paths = saved_paths(done.stdout)
    assert paths == [folder / "yellow-alpaca-1.png", folder / "yellow-alpaca-2.png"]
    assert [format_and_size(path) for path in paths] == [("PNG", (256, 256))] * 2
    assert files_in(folder) == ["yellow-alpaca-1.png", "yellow-alpaca-2.png"]
    assert "saved 2 image(s)" in done.stderr


def test_generate_saves_the_requested_size_and_format(base_url: str, tmp_path: Path) -> None:
    args = ["--model", LOCAL_MODEL, "--size", "320x192", "--output-format", "webp"]
    done = imagegen(*generate(base_url, tmp_path, *args))
    assert done.returncode == 0, done.stderr
    [path] = saved_paths(done.stdout)
    assert path.suffix == ".webp"
    assert format_and_size(path) == ("WEBP", (320, 192))


def test_a_second_identical_run_saves_under_a_new_name_and_keeps_the_first_file(
    base_url: str, tmp_path: Path
) -> None:
    first = imagegen(*generate(base_url, tmp_path))
    [first_path] = saved_paths(first.stdout)
    write_png(first_path, "green", (8, 8))  # mark the first file, to see whether it gets replaced
    marked = first_path.read_bytes()

    second = imagegen(*generate(base_url, tmp_path))
    assert (first.returncode, second.returncode) == (0, 0), second.stderr
    assert saved_paths(second.stdout) == [tmp_path / "yellow-alpaca-1-2.png"]
    assert first_path.read_bytes() == marked
    assert format_and_size(tmp_path / "yellow-alpaca-1-2.png") == ("PNG", (256, 256))


def test_overwrite_replaces_the_file_of_the_same_name(base_url: str, tmp_path: Path) -> None:
    first = imagegen(*generate(base_url, tmp_path))
    again = imagegen(*generate(base_url, tmp_path, "--size", "512x512", "--overwrite"))
    assert (first.returncode, again.returncode) == (0, 0), again.stderr
    assert saved_paths(again.stdout) == saved_paths(first.stdout) == [tmp_path / "yellow-alpaca-1.png"]
    assert format_and_size(tmp_path / "yellow-alpaca-1.png") == ("PNG", (512, 512))
    assert files_in(tmp_path) == ["yellow-alpaca-1.png"]


def test_json_prints_the_answer_with_base64_elided_and_saves_nothing(base_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    done = imagegen(*generate(base_url, folder, "--response-format", "b64_json", "--json"))
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    [item] = answer["data"]
    assert item["b64_json"].startswith("<")
    assert "characters of base64; --b64 to show" in item["b64_json"]
    assert isinstance(answer["created"], int)
    assert not folder.exists() or files_in(folder) == []


def test_json_with_b64_keeps_the_image_data(base_url: str, tmp_path: Path) -> None:
    done = imagegen(*generate(base_url, tmp_path, "--response-format", "b64_json", "--json", "--b64"))
    assert done.returncode == 0, done.stderr
    [item] = json.loads(done.stdout)["data"]
    image_file = tmp_path / "decoded.png"
    image_file.write_bytes(base64.b64decode(item["b64_json"], validate=True))
    assert format_and_size(image_file) == ("PNG", (256, 256))


def test_raw_prints_code_headers_and_body_of_a_success(base_url: str, tmp_path: Path) -> None:
    done = imagegen(*generate(base_url, tmp_path, "--raw"))
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert set(document) == {"code", "headers", "body"}
    assert document["code"] == 200
    assert document["headers"]["x-request-id"].startswith("req_")
    assert document["body"]["data"][0]["url"].startswith(base_url)


def test_raw_prints_the_error_answer_and_exits_1(base_url: str, tmp_path: Path) -> None:
    done = imagegen(*generate(base_url, tmp_path, *DALL_E_3_TWO_IMAGES, "--raw"))
    assert done.returncode == 1
    document = json.loads(done.stdout)
    assert document["code"] == 400
    assert document["body"]["error"]["param"] == "n"
    assert "takes n up to 1" in document["body"]["error"]["message"]
    assert document["headers"]["content-type"] == "application/json"


def test_field_values_reach_the_server_typed_as_json(base_url: str, tmp_path: Path) -> None:
    """n=2 arrives as the number 2 (the server refuses the string "2"): two images come back."""
    done = imagegen(*generate(base_url, tmp_path, "--field", "n=2"))
    assert done.returncode == 0, done.stderr
    assert len(saved_paths(done.stdout)) == 2


def test_a_field_the_contract_does_not_list_is_sent_and_accepted(base_url: str, tmp_path: Path) -> None:
    done = imagegen(*generate(base_url, tmp_path, "--model", LOCAL_MODEL, "--field", "seed=42"))
    assert done.returncode == 0, done.stderr
    assert format_and_size(saved_paths(done.stdout)[0]) == ("PNG", (256, 256))


def test_fields_are_sent_in_the_json_body_exactly(tmp_path: Path) -> None:
    fields = ["--field", "seed=42", "--field", 'tags=["a", "b"]', "--field", "note=hello world"]
    with recording_server() as server:
        server.reply_json({"created": 1, "data": [{"url": "https://example.com/a.png"}]})
        done = imagegen(*generate(server.base_url, tmp_path, "--model", LOCAL_MODEL, "--json", *fields))
    assert done.returncode == 0, done.stderr
    body = server.last.json()
    assert (body["seed"], body["tags"], body["note"]) == (42, ["a", "b"], "hello world")
    assert (body["prompt"], body["model"], body["size"]) == ("Yellow alpaca", LOCAL_MODEL, "256x256")
    assert server.last.headers["authorization"] == f"Bearer {TOKEN}"


def test_stream_with_partial_images_saves_the_partials_and_the_final_image(
    base_url: str, tmp_path: Path
) -> None:
    args = ["--model", "gpt-image-1", "--quality", "low", "--size", "1024x1024", "--stream"]
    done = imagegen(
        *generate(base_url, tmp_path, *args, "--partial-images", "2", "--save-partials", prompt="Otter")
    )
    assert done.returncode == 0, done.stderr
    paths = saved_paths(done.stdout)
    assert [path.name for path in paths] == ["otter-1-partial-1.png", "otter-1-partial-2.png", "otter-1.png"]
    assert [format_and_size(path) for path in paths] == [("PNG", (1024, 1024))] * 3
    assert len({path.read_bytes() for path in paths}) == 3
    assert "partial image 2 of image 1" in done.stderr
    assert "image 1 completed" in done.stderr
    assert "\r" not in done.stderr


# ---- edit and vary -------------------------------------------------------------------------------


def test_edit_sends_every_image_and_the_mask(base_url: str, tmp_path: Path) -> None:
    """The reference server keeps the first image where the mask is opaque and puts the second
    image, as a thumbnail, inside the mask's transparent hole."""
    first = write_png(tmp_path / "red.png", "red")
    second = write_png(tmp_path / "blue.png", "blue")
    mask = Image.new("RGBA", (256, 256), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (64, 64, 192, 192))
    mask.save(tmp_path / "mask.png")
    folder = tmp_path / "out"
    inputs = [str(first), str(second), "--mask", str(tmp_path / "mask.png"), "--prompt", "Add a hat"]
    request = ["--model", "gpt-image-1", "--quality", "low", "--size", "1024x1024", "-o", str(folder)]
    done = imagegen("edit", *inputs, *connection(base_url), *request)
    assert done.returncode == 0, done.stderr
    [path] = saved_paths(done.stdout)
    assert path == folder / "red-edited-1.png"
    assert format_and_size(path) == ("PNG", (1024, 1024))
    with Image.open(path) as image:
        edited = image.convert("RGB")
    for point in [(5, 5), (1018, 5), (5, 1018), (1018, 1018), (100, 900)]:
        assert edited.getpixel(point) == (255, 0, 0), point  # kept: outside the mask's hole
    hole_colours = {colour for _, colour in edited.crop((256, 256, 768, 768)).getcolors(512 * 512) or []}
    assert (0, 0, 255) in hole_colours  # the second image, inside the hole


def test_vary_saves_the_variations_at_the_requested_size(base_url: str, tmp_path: Path) -> None:
    source = write_png(tmp_path / "photo.png", "orange")
    folder = tmp_path / "out"
    request = ["--model", "dall-e-2", "-n", "2", "--size", "256x256", "-o", str(folder)]
    done = imagegen("vary", str(source), *connection(base_url), *request)
    assert done.returncode == 0, done.stderr
    paths = saved_paths(done.stdout)
    assert paths == [folder / "photo-variation-1.png", folder / "photo-variation-2.png"]
    assert [format_and_size(path) for path in paths] == [("PNG", (256, 256))] * 2
    assert paths[0].read_bytes() != paths[1].read_bytes()


# ---- the seed's command line: imagegen openai ... ------------------------------------------------


@pytest.mark.parametrize(
    "description",
    [SEED_DESCRIPTION, "{'prompt':'Yellow alpaca','n':1,'size':'1024x1024'}"],
    ids=["n-as-text", "n-as-number"],
)
def test_the_seed_get_images_command_line_prints_the_answer(root: str, description: str) -> None:
    done = imagegen(*get_images(root, descr=description))
    assert done.returncode == 0, done.stderr
    [item] = json.loads(done.stdout)["data"]
    assert item["url"].startswith(root)
    assert item["revised_prompt"].startswith("Yellow alpaca")


def test_get_images_reads_the_description_from_a_json_file(root: str, tmp_path: Path) -> None:
    descr = tmp_path / "descr.json"
    descr.write_text(json.dumps({"prompt": "Yellow alpaca", "n": 1, "size": "64x64"}))
    done = imagegen(*get_images(root, model=LOCAL_MODEL, descr=str(descr)))
    assert done.returncode == 0, done.stderr
    [item] = json.loads(done.stdout)["data"]
    assert item["url"].startswith(root)


def test_get_images_sends_headers_given_as_relaxed_json(root: str) -> None:
    """The header asks the server for a fault: the refusal proves it was sent."""
    done = imagegen(*get_images(root, "--headers", "{'X-Imagegen-Fault':'status=418; id=cli-seed-headers'}"))
    assert done.returncode == 1
    assert "status 418" in done.stderr
    assert done.stdout == ""


def test_get_images_adv_response_prints_code_headers_and_body(root: str) -> None:
    done = imagegen(*get_images(root, "--adv_response"))
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert set(document) == {"code", "headers", "body"}
    assert document["code"] == 200
    assert document["headers"]["x-request-id"].startswith("req_")
    assert document["body"]["data"][0]["revised_prompt"].startswith("Yellow alpaca")


def test_get_images_adv_response_of_a_refusal_prints_it_and_exits_1(root: str) -> None:
    done = imagegen(*get_images(root, "--adv_response", descr="{'prompt':'Yellow alpaca','n':'2'}"))
    assert done.returncode == 1
    document = json.loads(done.stdout)
    assert (document["code"], document["body"]["error"]["param"]) == (400, "n")


@pytest.mark.parametrize(("retries", "status"), [(2, 0), (1, 1)])
def test_get_images_config_sets_the_attempts(root: str, retries: int, status: int) -> None:
    """A 503 first: two attempts get the image, one attempt does not."""
    headers = fault(f"status=503; retry-after-ms=10; id=cli-config-{retries}")
    config = json.dumps({"retries": retries, "timeout": 30})
    args = ["--headers", headers, "--config", config]
    done = imagegen(*get_images(root, *args, model="dall-e-2", descr=SMALL_DESCRIPTION))
    assert done.returncode == status, done.stderr
    if status == 0:
        assert json.loads(done.stdout)["data"][0]["url"].startswith(root)
    else:
        assert "status 503" in done.stderr


def test_get_images_config_sets_the_timeout(root: str) -> None:
    config = '{"retries": 1, "timeout": 0.5}'
    args = ["--headers", fault("latency=3; id=cli-config-timeout"), "--config", config]
    started = time.monotonic()
    done = imagegen(*get_images(root, *args, model="dall-e-2", descr=SMALL_DESCRIPTION))
    assert done.returncode == 1
    assert "no answer in time" in done.stderr
    assert time.monotonic() - started < 2.5


def test_get_image_description_structure_prints_exactly_the_description() -> None:
    done = imagegen(*describe("--size", "64x64"))
    assert done.returncode == 0, done.stderr
    described = json.loads(done.stdout)
    assert described == {"prompt": "Yellow alpaca", "n": 1, "size": "64x64"}
    assert list(described) == ["prompt", "n", "size"]


def test_get_image_description_structure_with_options_and_background() -> None:
    done = imagegen(*describe("--size", "64x64", "--options", "{'quality':'high'}", "--bg", "transparent"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "prompt": "Yellow alpaca",
        "n": 1,
        "size": "64x64",
        "background": "transparent",
        "quality": "high",
    }


# ---- failures: messages and exit statuses --------------------------------------------------------


def test_bad_json_in_descr_names_the_position_and_exits_2(root: str) -> None:
    done = imagegen(*get_images(root, descr="{'prompt':'Yellow alpaca',,}"))
    assert done.returncode == 2
    assert "--descr" in done.stderr
    assert "line 1, column " in done.stderr
    assert done.stdout == ""


def test_a_missing_image_file_is_named_and_exits_2(base_url: str, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-photo.png"
    done = imagegen("edit", str(missing), "--prompt", "p", *connection(base_url), "-o", str(tmp_path))
    assert done.returncode == 2
    assert "no-such-photo.png" in done.stderr
    assert "no such file" in done.stderr
    assert done.stdout == ""


def test_a_file_that_is_not_an_image_is_refused_with_exit_2(base_url: str, tmp_path: Path) -> None:
    text = tmp_path / "notes.png"
    text.write_text("these are notes, not a picture\n")
    done = imagegen("vary", str(text), *connection(base_url), "--model", "dall-e-2", "-o", str(tmp_path))
    assert done.returncode == 2
    assert "notes.png is not an image" in done.stderr
    assert files_in(tmp_path) == ["notes.png"]


def test_a_refusal_by_the_server_exits_1_with_its_message_status_param_and_request_id(
    base_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    done = imagegen(*generate(base_url, folder, *DALL_E_3_TWO_IMAGES, "--no-check"))
    assert done.returncode == 1
    assert 1 <= len(done.stderr.splitlines()) <= 2, done.stderr
    assert "dall-e-3 takes n up to 1; n was 2." in done.stderr
    assert "status 400" in done.stderr
    assert "param n" in done.stderr
    assert "request id req_" in done.stderr
    assert done.stdout == ""
    assert not folder.exists() or files_in(folder) == []


def test_a_wrong_token_exits_1_with_status_401(base_url: str, tmp_path: Path) -> None:
    args = ["--url", base_url, "--token", WRONG_TOKEN, "--model", "dall-e-2", "--size", "256x256"]
    done = imagegen("generate", "Yellow alpaca", *args, "-o", str(tmp_path))
    assert done.returncode == 1
    assert "status 401" in done.stderr
    assert WRONG_TOKEN not in done.stdout + done.stderr
    assert files_in(tmp_path) == []


def test_a_server_that_is_down_exits_1_naming_the_address(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    done = imagegen(*generate(url, tmp_path, "--max-retries", "0"))
    assert done.returncode == 1
    assert f"could not get an answer from POST {url}/images/generations" in done.stderr
    assert "Connection refused" in done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr


def test_get_images_on_a_server_that_is_down_exits_1_naming_the_address() -> None:
    root = f"http://127.0.0.1:{closed_port()}/"
    done = imagegen(*get_images(root, "--retries", "1"))
    assert done.returncode == 1
    assert f"could not get an answer from POST {root}v1/images/generations" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("command", ["generate", "openai GetImages"])
def test_negative_retries_is_a_usage_error(base_url: str, root: str, tmp_path: Path, command: str) -> None:
    if command == "generate":
        done = imagegen(*generate(base_url, tmp_path, "--max-retries", "-1"))
    else:
        done = imagegen(*get_images(root, "--retries", "-1"))
    assert done.returncode == 2, done.stdout
    assert ("--max-retries" if command == "generate" else "--retries") in done.stderr
    assert done.stdout == ""


def test_an_unknown_command_exits_2_and_names_the_known_ones() -> None:
    done = imagegen("paint", "Yellow alpaca")
    assert done.returncode == 2
    assert "invalid choice: 'paint'" in done.stderr
    assert "'generate'" in done.stderr
    assert "'openai'" in done.stderr
    assert done.stdout == ""


def test_an_output_path_that_is_a_file_is_a_usage_error(base_url: str, tmp_path: Path) -> None:
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me\n")
    done = imagegen(*generate(base_url, existing))
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("imagegen: ")
    assert "not a folder" in done.stderr
    assert existing.read_text() == "keep me\n"


def test_get_images_with_an_empty_token_on_stdin_is_a_usage_error(root: str) -> None:
    """As with `generate --token -`: an empty key is a mistake to report, not a request to send."""
    done = imagegen(*get_images(root, token="-"), stdin="")
    assert done.returncode == 2, done.stderr
    assert "standard input" in done.stderr


# ---- the key: never shown; from stdin, a file or the environment ---------------------------------


def test_the_token_never_appears_in_any_output(base_url: str, root: str, tmp_path: Path) -> None:
    runs = [
        imagegen(*generate(base_url, tmp_path, "-v")),
        imagegen(*generate(base_url, tmp_path, "-v", "--raw")),
        imagegen(*generate(base_url, tmp_path, "-v", "--raw", *DALL_E_3_TWO_IMAGES)),
        imagegen(*generate(base_url, tmp_path, "-v", *DALL_E_3_TWO_IMAGES, "--no-check")),
        imagegen(*generate(base_url, tmp_path, "-v", "--json", "--b64", "--response-format", "b64_json")),
        imagegen(*get_images(root, "--adv_response")),
        imagegen(*generate(f"http://127.0.0.1:{closed_port()}/v1", tmp_path, "-v", "--max-retries", "0")),
    ]
    assert [done.returncode for done in runs] == [0, 0, 1, 1, 0, 0, 1]
    assert "POST /v1/images/generations -> 200" in runs[0].stderr  # -v did log the requests
    for done in runs:
        assert TOKEN not in done.stdout
        assert TOKEN not in done.stderr


def test_token_from_standard_input(base_url: str, tmp_path: Path) -> None:
    args = ["--url", base_url, "--token", "-", "--model", "dall-e-2", "--size", "256x256"]
    done = imagegen("generate", "Yellow alpaca", *args, "-o", str(tmp_path), "-v", stdin=TOKEN + "\n")
    assert done.returncode == 0, done.stderr
    assert saved_paths(done.stdout) == [tmp_path / "yellow-alpaca-1.png"]


def test_token_from_standard_input_for_get_images(root: str) -> None:
    done = imagegen(*get_images(root, token="-"), stdin=TOKEN + "\n")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["data"][0]["url"].startswith(root)


def test_token_from_a_file(base_url: str, tmp_path: Path) -> None:
    key_file = tmp_path / "key.txt"
    key_file.write_text(TOKEN + "\n")
    folder = tmp_path / "out"
    args = ["--url", base_url, "--token-file", str(key_file), "--model", "dall-e-2", "--size", "256x256"]
    done = imagegen("generate", "Yellow alpaca", *args, "-o", str(folder), "-v")
    assert done.returncode == 0, done.stderr
    assert saved_paths(done.stdout) == [folder / "yellow-alpaca-1.png"]


def test_key_and_url_from_the_environment(base_url: str, tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "OPENAI_API_KEY": TOKEN, "OPENAI_BASE_URL": base_url}
    args = ["--model", "dall-e-2", "--size", "256x256", "-o", str(tmp_path)]
    done = imagegen("generate", "Yellow alpaca", *args, env=env)
    assert done.returncode == 0, done.stderr
    assert format_and_size(saved_paths(done.stdout)[0]) == ("PNG", (256, 256))


def test_without_a_key_the_server_refuses_with_401(base_url: str, tmp_path: Path) -> None:
    """The counterpart of the tests above: the key they give is really what gets through."""
    env = {"PATH": os.environ["PATH"], "OPENAI_BASE_URL": base_url}
    done = imagegen("generate", "Yellow alpaca", "--model", "dall-e-2", "-o", str(tmp_path), env=env)
    assert done.returncode == 1
    assert "status 401" in done.stderr


# ---- output: quiet, progress, saved files --------------------------------------------------------


def test_quiet_prints_nothing_on_stderr_and_still_lists_the_saved_files(
    base_url: str, tmp_path: Path
) -> None:
    done = imagegen(*generate(base_url, tmp_path, "-q", "-n", "2"))
    assert done.returncode == 0
    assert done.stderr == ""
    assert saved_paths(done.stdout) == [tmp_path / "yellow-alpaca-1.png", tmp_path / "yellow-alpaca-2.png"]


def test_no_progress_is_shown_when_stderr_is_not_a_terminal(base_url: str, tmp_path: Path) -> None:
    """A second of latency: a spinner (a frame every 0.1 s) would have drawn several frames."""
    done = imagegen(*generate(base_url, tmp_path, "--headers", fault("latency=1; id=cli-no-progress")))
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr
    assert "saved 1 image(s)" in done.stderr


def test_saved_images_get_the_permissions_of_any_new_file(base_url: str, tmp_path: Path) -> None:
    """Saved images follow the umask like any file the user creates (e.g. 0644), not 0600."""
    done = imagegen(*generate(base_url, tmp_path))
    assert done.returncode == 0, done.stderr
    probe = tmp_path / "probe.txt"
    probe.write_text("a file made the usual way\n")
    [path] = saved_paths(done.stdout)
    assert oct(path.stat().st_mode & 0o777) == oct(probe.stat().st_mode & 0o777)


# ---- help ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "example"),
    [
        ("generate", 'imagegen generate "Yellow alpaca" --model dall-e-3 --size 1024x1024'),
        ("edit", 'imagegen edit photo.png --mask mask.png --prompt "Replace the sky with stars"'),
        ("vary", "imagegen vary photo.png -n 3 --size 512x512 -o variations/"),
        ("openai", 'imagegen openai GetImages --url "https://bothub.chat/api/v2/openai/" --token "***"'),
        ("openai GetImages", "imagegen openai GetImageDescriptionStructure --prompt"),
        ("serve", "imagegen serve --no-auth"),
    ],
)
def test_each_command_help_shows_an_example(command: str, example: str) -> None:
    done = imagegen(*command.split(), "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: imagegen {command}")
    assert "examples" in done.stdout
    assert example in done.stdout
