"""`regie registry match` (run here as `python -m registry.match_cli`): input shapes, output,
the data sources and every error path."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys

import pytest

from registry import match_cli
from registry.end_of_support import Catalog, Cycle, Product
from tests.registry import EOL_DATA, REPO, SAMPLES, requires_snapshot, sample_cases

NGINX = {"source": "dpkg", "raw": {"package": "nginx", "version": "1.22.1-9"}}
NGINX_MATCH = {"product": "nginx", "cycle": "1.22", "eol": "2023-04-11"}


def _cli(*args: str, stdin: str | bytes = "") -> subprocess.CompletedProcess[str]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    result = subprocess.run([sys.executable, "-m", "registry.match_cli", *args], input=data,
                            capture_output=True, cwd=REPO, timeout=60, check=False)
    return subprocess.CompletedProcess(result.args, result.returncode,
                                       result.stdout.decode(), result.stderr.decode())


def _lines(text: str) -> list[object]:
    return [json.loads(line) for line in text.splitlines()]


def _run(text: str, *, data: str | None = None, array: bool = False, loader=None):
    stdout, stderr = io.StringIO(), io.StringIO()
    code = match_cli.run(argparse.Namespace(data=data, array=array), catalog_loader=loader,
                         stdin=io.StringIO(text), stdout=stdout, stderr=stderr)
    return code, stdout.getvalue(), stderr.getvalue()


@requires_snapshot
def test_the_sample_cases_through_a_subprocess():
    result = _cli("--data", str(EOL_DATA), stdin=SAMPLES.read_bytes())
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert _lines(result.stdout) == [case["expect"] for case in sample_cases()]


@requires_snapshot
def test_array_output():
    result = _cli("--data", str(EOL_DATA), "--array", stdin=SAMPLES.read_bytes())
    assert result.returncode == 0
    assert result.stdout.count("\n") == 1
    assert json.loads(result.stdout) == [case["expect"] for case in sample_cases()]


def test_the_bundled_dataset_is_the_default():
    result = _cli(stdin=json.dumps([NGINX]))
    assert (result.returncode, _lines(result.stdout)) == (0, [NGINX_MATCH])


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ([NGINX, {"source": "dpkg", "raw": {"package": "bash", "version": "5.2"}}],
         [NGINX_MATCH, None]),
        (NGINX, [NGINX_MATCH]),  # a single observation
        ({"cases": [dict(NGINX, id="x1", expect=None)]}, [NGINX_MATCH]),  # extra keys ignored
        ({"schema": "regie.inventory/v1", "observations": [NGINX]}, [NGINX_MATCH]),
        ([], []),
    ],
)
def test_input_shapes(document, expected):
    code, out, err = _run(json.dumps(document))
    assert (code, _lines(out), err) == (0, expected, "")


def test_a_malformed_observation_in_a_list_prints_null_and_a_warning():
    document = [7, NGINX, {"source": "dpkg"}, {"raw": {}}, {"source": "", "raw": {}}, None]
    code, out, err = _run(json.dumps(document))
    assert code == 0
    assert _lines(out) == [None, NGINX_MATCH, None, None, None, None]
    warnings = err.splitlines()
    assert len(warnings) == 5
    assert warnings[0] == ("regie registry match: warning: observation [0] is a number, not an "
                           "object; printing null")
    assert "[2] has no \"raw\" object" in warnings[1]
    assert "[3] has no \"source\" string" in warnings[2]
    assert "[5] is null" in warnings[4]


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("", "no input"),
        ("{not json", "invalid JSON on standard input"),
        ("42", "the input is a number"),
        ('"dpkg nginx"', "the input is a string"),
        ('{"source": "dpkg"}', "the observation has no \"raw\" object"),
        ('{"package": "nginx"}', "the observation has no \"source\" string"),
        ('{"cases": {"a": 1}}', "\"cases\" is an object, not a list"),
    ],
)
def test_input_errors_exit_2_with_one_line(stdin, message):
    code, out, err = _run(stdin)
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert message in err


def test_unreadable_input_through_a_subprocess():
    result = _cli(stdin=b"\xff\xfe not utf-8")
    assert result.returncode == 2
    assert result.stderr.startswith("regie registry match: cannot read standard input")


@pytest.mark.parametrize("layout", ["missing", "file", "no-products"])
def test_a_data_dir_that_is_not_one(tmp_path, layout):
    path = tmp_path / "eol"
    if layout == "file":
        path.write_text("x")
    elif layout == "no-products":
        path.mkdir()
    result = _cli("--data", str(path), stdin=json.dumps([NGINX]))
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert str(path) in result.stderr


def test_malformed_product_files_are_skipped_with_a_count(tmp_path):
    products = tmp_path / "products"
    products.mkdir()
    (products / "nginx.json").write_text(json.dumps({"result": {
        "name": "nginx", "label": "nginx", "category": "server-app", "releases": [
            {"name": "1.22", "isEol": True, "eolFrom": "2023-04-11"}]}}))
    (products / "broken.json").write_text("{")
    (products / "bad-eol.json").write_text(json.dumps({"result": {
        "name": "x", "releases": [{"name": "1", "isEol": "soon"}]}}))
    result = _cli("--data", str(tmp_path), stdin=json.dumps([NGINX]))
    assert result.returncode == 0
    assert _lines(result.stdout) == [NGINX_MATCH]
    lines = result.stderr.splitlines()
    assert lines[0] == f"regie registry match: skipped 2 malformed product file(s) in {tmp_path}"
    assert len(lines) == 3


def _tiny_catalog() -> Catalog:
    return Catalog((Product(name="nginx", label="nginx", category="server-app",
                            cycles=(Cycle(name="1.22", eol=False),)),))


def test_the_catalog_loader_hook_comes_before_the_default():
    code, out, _ = _run(json.dumps([NGINX]), loader=_tiny_catalog)
    assert (code, _lines(out)) == (0, [{"product": "nginx", "cycle": "1.22", "eol": False}])


def test_a_loader_returning_none_falls_through_to_the_default(monkeypatch):
    monkeypatch.setattr(match_cli, "default_catalog", _tiny_catalog)
    code, out, _ = _run(json.dumps([NGINX]), loader=lambda: None)
    assert (code, _lines(out)) == (0, [{"product": "nginx", "cycle": "1.22", "eol": False}])


@requires_snapshot
def test_data_dir_wins_over_the_loader():
    code, out, _ = _run(json.dumps([NGINX]), data=str(EOL_DATA), loader=_tiny_catalog)
    assert (code, _lines(out)) == (0, [NGINX_MATCH])


def test_add_arguments_and_help():
    parser = argparse.ArgumentParser(prog="regie registry match")
    match_cli.add_arguments(parser)
    args = parser.parse_args(["--data", "/tmp/x", "--array"])
    assert (args.data, args.array) == ("/tmp/x", True)
    result = _cli("--help")
    assert result.returncode == 0 and "--data DIR" in result.stdout


def test_a_closed_pipe_is_not_an_error():
    document = json.dumps([NGINX] * 50_000)  # more output than a pipe buffer holds
    process = subprocess.Popen([sys.executable, "-m", "registry.match_cli"], cwd=REPO,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stdin.write(document.encode())
    process.stdin.close()
    assert process.stdout.readline()
    process.stdout.close()
    assert process.wait(timeout=60) == 0
    assert b"Traceback" not in process.stderr.read()
    process.stderr.close()

