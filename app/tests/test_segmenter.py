import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench.textgen import chinese_page
from reader import segmenter

APP_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def restore_backend():
    yield
    segmenter.load()  # back to the configured backend


def test_tokens_concatenate_back_to_the_text():
    text = "我们在2026年用Python写了一个app，测试一下！\n第二行。"
    assert "".join(segmenter.segment(text)) == text


def test_rjieba_and_jieba_agree(restore_backend, settings, tmp_path):
    settings.ONEBOX_JIEBA_CACHE = str(tmp_path / "jieba.cache")
    text = chinese_page(5000, seed=7)
    segmenter.load("rjieba")
    fast = segmenter.segment(text)
    segmenter.load("jieba")
    assert segmenter.backend() == "jieba"
    reference = segmenter.segment(text)
    assert fast == reference
    assert (tmp_path / "jieba.cache").exists()


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=APP_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "onebox.test_settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_management_commands_do_not_load_the_segmenter():
    result = _python(
        "import sys, django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('check')\n"
        "print('loaded:', 'rjieba' in sys.modules or 'jieba' in sys.modules)\n"
    )
    assert result.returncode == 0, result.stderr
    assert "loaded: False" in result.stdout


def test_wsgi_module_loads_the_segmenter_before_any_request():
    result = _python(
        "import onebox.wsgi\nfrom reader import segmenter\n"
        "print('loaded:', segmenter.loaded(), segmenter.backend())\n",
        ONEBOX_SEGMENTER="rjieba",
    )
    assert result.returncode == 0, result.stderr
    assert "loaded: True rjieba" in result.stdout


def test_unsupported_backend_fails_at_startup():
    result = _python("import django; django.setup()", ONEBOX_SEGMENTER="pkuseg")
    assert result.returncode != 0
    assert "ONEBOX_SEGMENTER='pkuseg' is not supported" in result.stderr
